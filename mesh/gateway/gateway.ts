// The east-west gateway's data path: the daemon's endpoint table → the mesh's own pools (balancer, active and passive
// health) and proxies (HTTP per request, TCP per connection), one listener per meshed container port.

import { setMaxListeners } from 'node:events';
import type { Endpoint } from '../../daemon/api/engine.ts';
import type { GatewayService, GatewayStats, GatewayTable } from '../../daemon/api/gateway-control.ts';
import { POLICY_REASONS } from '../../daemon/api/policy-control.ts';
import type { MeshSpec } from '../../daemon/api/project.ts';
import type { AccessLogEntry, RequestCounter } from '../proxy/index.ts';
import { Registry } from '../registry.ts';
import type { ServiceTableRow } from '../../daemon/api/service-table.ts';
import { GatewayPolicies } from './gateway-policy.ts';
import { drainListeners, stopAccepting, undrainListeners } from './bound-port.ts';
import type { BindContext } from './bind-port.ts';
import { BindRetry } from './bind-retry.ts';
import { HostListeners } from './host-listeners.ts';
import { DrainReports, drainingInFlight, tableDrains } from './drain-reports.ts';
import { ReplicaAddresses } from './replica-addresses.ts';
import { RequestCounts } from './request-counts.ts';
import { releaseShared } from './shared-sockets.ts';

export interface GatewayOptions {
  /** Address the listeners bind (the container's every interface). */
  host?: string;
  /**
   * Addresses the listeners bind, each port on each of them (the shared gateway: its addresses on the project's
   * networks); setHosts() changes them while it runs. Instead of `host`.
   */
  hosts?: readonly string[];
  /** Resolves a replica's container to an address; default Docker DNS by short container id. */
  resolve?: (container: string) => Promise<string>;
  log?: (line: string) => void;
  signal: AbortSignal;
  /** Re-resolution period: a restarted container may come back with another address. */
  refreshMs?: number;
  /** Random source of the fault injectors (tests seed it). */
  rand?: () => number;
  /** Bind no port until listen(): a worker sharing the supervisor's sockets listens once warm (main.ts). */
  holdListeners?: boolean;
  /**
   * Called every 50 ms while this gateway drains, or while a replica its table marks draining has requests in flight
   * through it: the daemon waits on those reports (daemon/gateway-hub-drain.ts). No timer runs otherwise.
   */
  onDrainReport?: () => void;
}

/** How often a drain under way is reported (onDrainReport). */
const DRAIN_REPORT_MS = 50;

/** A retiring gateway stops accepting this long before it closes its connections: those just accepted get answered. */
const RETIRE_SETTLE_MS = 300;

export class Gateway {
  readonly registry: Registry;
  /** The services' traffic policy on the calls by name (this process's own limiters, breakers and counters). */
  readonly policies: GatewayPolicies;
  readonly #o: GatewayOptions;
  #table: GatewayTable | undefined;
  readonly #addresses: ReplicaAddresses;
  readonly #bound = new HostListeners();
  #hosts: readonly string[];
  readonly #warnings = new Map<string, string>();
  readonly #requests = new RequestCounts();
  #syncing: Promise<void> | undefined;
  #again = false;
  /** Re-resolve every replica on the next sync, not only new ones (a restarted container may have a new address). */
  #reresolve = false;
  /** A successor serves (supervisor.ts): HTTP answers carry `Connection: close` so keep-alive callers move over. */
  #draining = false;
  /** Its listeners are closed for good: its successor serves (retire()). */
  #retired = false;
  /** retire() finished: nothing of it is open any more (what the daemon waits for). */
  #closedForGood = false;
  #holding: boolean;
  readonly #drainReports: DrainReports | undefined;
  readonly #bindRetry: BindRetry;

  constructor(options: GatewayOptions) {
    this.#o = options;
    this.#holding = options.holdListeners === true;
    this.#hosts = options.hosts ?? [options.host ?? '0.0.0.0'];
    this.#addresses = new ReplicaAddresses(options.resolve, this.#warnings);
    // Container addresses on the project network are the upstreams (never loopback).
    this.registry = new Registry({ upstreamHost: (ep) => ep.host });
    this.policies = new GatewayPolicies((service, port) => this.registry.pool(this.#table!.project, service).forPort(port), options.rand);
    // Every pool's health checker and listener hangs off this one signal: a project with many services is not a leak.
    setMaxListeners(0, options.signal);
    this.registry.startHealthChecks(options.signal);
    const refreshMs = options.refreshMs ?? 2000;
    const timer = setInterval(() => this.#kick(true), refreshMs).unref();
    this.#bindRetry = new BindRetry({ refreshMs, retry: () => void this.#kick(false) });
    // Its lifetime is its signal's: the listeners close with it, whoever else calls close().
    options.signal.addEventListener(
      'abort',
      () => {
        clearInterval(timer);
        this.#bindRetry.stop();
        void this.close();
      },
      { once: true },
    );
    const report = options.onDrainReport;
    this.#drainReports =
      report &&
      new DrainReports(
        { underWay: () => this.#draining || tableDrains(this.#table), due: () => this.#draining || drainingInFlight(this.#table, this.registry) },
        report,
        DRAIN_REPORT_MS,
        options.signal,
      );
  }

  /** A new table from the daemon: pools and listeners follow it; until the next one it is kept (fail-open). */
  apply(table: GatewayTable): Promise<void> {
    this.#table = table;
    this.#drainReports?.update();
    return this.#kick(false);
  }

  /** The addresses to bind from now on: listeners open on new ones (once not held) and close on those left out. */
  setHosts(hosts: readonly string[]): Promise<void> {
    this.#hosts = [...new Set(hosts)];
    // Before a first table there is nothing to bind: apply() binds on these.
    return this.#table ? this.#kick(false) : Promise.resolve();
  }

  /**
   * From now on every HTTP answer, on every listener (and any bound later), carries `Connection: close`: keep-alive
   * callers leave for the successor on their own instead of racing a closed idle socket. TCP connections are untouched.
   */
  startDraining(): void {
    this.#draining = true;
    for (const b of this.#bound.all()) drainListeners(b);
    this.#drainReports?.update();
  }

  /**
   * The replacement was called off (the daemon no longer names it): every listener, bound now or later, answers
   * keep-alive again. Connections already answered with `Connection: close` are gone; callers open new ones.
   */
  stopDraining(): void {
    this.#draining = false;
    for (const b of this.#bound.all()) undrainListeners(b);
  }

  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Its successor serves and this one drained: its listeners close (new connections are refused, so a caller that got
   * both addresses from DNS goes on to the other one), in-flight work finishes within the listeners' drain bound.
   * Nothing is bound again until unretire() (the daemon named it by mistake, or a new daemon kept it after all).
   */
  async retire(): Promise<void> {
    this.#retired = true;
    // Under the supervisor: its copies of the sockets go first, so this worker's close below really closes them.
    // Bound on a list of addresses (the shared gateway): only those, other projects share its ports on theirs.
    await releaseShared(this.#bound.ports(), this.#o.hosts === undefined ? undefined : this.#bound.hosts());
    await Promise.all(this.#bound.all().map((b) => stopAccepting(b.server)));
    await new Promise((resolve) => setTimeout(resolve, RETIRE_SETTLE_MS));
    await this.close();
    if (this.#retired) this.#closedForGood = true;
  }

  unretire(): Promise<void> {
    this.#retired = false;
    this.#closedForGood = false;
    return this.#kick(false);
  }

  /** Told to retire (its listeners are closing or closed). */
  get retiring(): boolean {
    return this.#retired;
  }

  /**
   * Retired and done: listeners closed, connections finished. Only this is reported: the daemon takes the container
   * off its networks next, and a connection still open then would hang its caller (no FIN or RST reaches it).
   */
  get retired(): boolean {
    return this.#closedForGood;
  }

  /** Binds the table's ports (held until now with holdListeners). */
  listen(): Promise<void> {
    this.#holding = false;
    return this.#kick(false);
  }

  rows(): ServiceTableRow[] {
    return this.#table ? this.registry.snapshot({ project: this.#table.project }) : [];
  }

  warnings(): string[] {
    return [...this.#warnings.values()];
  }

  /**
   * Services of the table with a listener bound for each of their ports on every host: callers by name are answered
   * (readiness), whichever of the addresses they were given.
   */
  serving(): string[] {
    const all = this.#table?.services ?? [];
    return all.filter((s) => s.ports.every((p) => this.#bound.servedEverywhere(this.#hosts, p.port, s.name))).map((s) => s.name);
  }

  /** Cumulative request counts since this gateway started (the daemon turns them into Prometheus counters). */
  requestTotals(): GatewayStats['requests'] {
    return this.#requests.totals();
  }

  #count(entry: AccessLogEntry): void {
    this.#countRequest(entry.service, entry.upstream, entry.method, entry.status, 0, entry.route, entry.target, entry.error);
  }

  /** The proxy's RequestCounter: positional, so an HTTP/1.x request allocates nothing to be counted. */
  readonly #countRequest: RequestCounter = (service, upstream, method, status, _durationMs, route, target, error) => {
    // As for ingress (metrics-policy.ts): the route by its index only (table-bounded), the reason only for policy answers.
    const reason = error !== undefined && POLICY_REASONS.has(error) ? error : undefined;
    if (route === undefined && target === undefined && reason === undefined) {
      this.#requests.count(service, upstream, method, status);
      return;
    }
    this.#requests.count(service, upstream, method, status, { route: route?.split(' ', 1)[0], target, reason });
  };

  /** Closes every listener. Idempotent: the signal's abort and the owner may both call it, even at once. */
  async close(): Promise<void> {
    // Taken out before the awaits: a second close() meanwhile finds nothing left to close twice.
    const all = this.#bound.takeAll();
    await Promise.all(all.map((b) => b.close()));
  }

  #kick(reresolve: boolean): Promise<void> {
    if (reresolve) this.#reresolve = true;
    if (this.#syncing) {
      this.#again = true;
      return this.#syncing;
    }
    this.#syncing = (async () => {
      do {
        this.#again = false;
        const table = this.#table;
        if (table) await this.#sync(table);
      } while (this.#again && !this.#o.signal.aborted);
    })().finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  async #sync(table: GatewayTable): Promise<void> {
    const { project } = table;
    const all = this.#reresolve;
    this.#reresolve = false;
    await this.#addresses.refresh(table, all);
    for (const svc of table.services) this.#syncPool(project, svc);
    const names = new Set(table.services.map((s) => s.name));
    for (const pool of this.registry.list(project)) {
      if (names.has(pool.service)) continue;
      // A listener kept for the services left on its port still routes this name: empty the pool, keep it for a return.
      if (this.#bound.routes(pool.service)) for (const id of pool.replicaIds()) pool.remove(id);
      else this.registry.removeService(project, pool.service);
    }
    // Before the listeners: a listener bound now starts with its service's policy.
    this.policies.update(table);
    await this.#syncListeners(table);
  }

  #syncPool(project: string, svc: GatewayService): void {
    const pool = this.registry.configureService(project, {
      name: svc.name,
      replicas: svc.desired,
      ports: svc.ports.map((p) => ({ target: p.port, protocol: 'tcp' as const })),
      mesh: svc.mesh as MeshSpec,
    });
    const keep = new Set<string>();
    for (const r of svc.replicas) {
      keep.add(r.id);
      const host = this.#addresses.get(r.container);
      const endpoints: Endpoint[] = host === undefined ? [] : svc.ports.map((p) => ({ containerPort: p.port, protocol: 'tcp', host, hostPort: p.port }));
      // A seed counts only where the pool meets the container first (ReplicaInput.seedHealthy); with no address yet it
      // would be wasted, so the replica then rises on this gateway's own probes.
      const seedHealthy = r.healthy === true && host !== undefined;
      pool.upsert({ id: r.id, replica: r.replica, container: r.container, endpoints, state: r.state, ...(seedHealthy ? { seedHealthy } : {}) });
      pool.setDraining(r.id, r.draining);
    }
    for (const id of pool.replicaIds()) {
      if (keep.has(id)) continue;
      pool.remove(id);
      for (const b of this.#bound.all()) {
        const proxy = b.listeners.get(svc.name)?.proxy;
        if (proxy?.kind === 'http') void proxy.closeUpstream(id);
      }
    }
  }

  #bindContext(host: string, project: string): BindContext {
    return {
      host,
      project,
      registry: this.registry,
      policies: this.policies,
      log: this.#o.log,
      countRequest: this.#countRequest,
      onRequest: (e) => this.#count(e),
    };
  }

  async #syncListeners(table: GatewayTable): Promise<void> {
    // Aborted: closed for good, like a retired one (close() ran on the abort).
    if (this.#retired || this.#holding || this.#o.signal.aborted) return;
    const allBound = await this.#bound.sync(table, {
      hosts: this.#hosts,
      context: (host) => this.#bindContext(host, table.project),
      draining: this.#draining,
      aborted: () => this.#o.signal.aborted,
      log: this.#o.log,
      warnings: this.#warnings,
      named: this.#o.hosts !== undefined,
    });
    this.#bindRetry.settled(allBound);
  }
}
