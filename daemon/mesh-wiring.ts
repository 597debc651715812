// The daemon's side of the mesh: owns the service table and the published-port listeners, follows reconcile's
// observations, and drains a replica out of the balancer before reconcile stops it.

import { Registry } from '../mesh/registry.ts';
import type { ServiceTableRow } from './api/service-table.ts';
import { type DesiredProject, desiredReplicas } from './api/desired.ts';
import type { ContainerInfo, ContainerState, Endpoint } from './api/engine.ts';
import { isCmeshError } from './api/errors.ts';
import type { DaemonEvent } from './api/events.ts';
import { isPendingNext, Labels, parseReplicaId, replicaId, replicaOf } from './api/labels.ts';
import type { ProjectSpec } from './api/project.ts';
import { boundPort, type PublishedMapping, withBoundPorts } from './bound-ports.ts';
import { ReplicaLinks } from './mesh-links.ts';
import { MeshPorts, type MeshPortsOptions, type ProxyHooks } from './mesh-ports.ts';
import { withBreakers } from './service-breakers.ts';
import { withEastWest } from './gateway-table.ts';
import type { EastWestRuntime } from './gateway-wiring.ts';
import { discardNext, promoteNext, waitNextHealthy } from './mesh-rollout.ts';
import type { GatewayContext } from './reconcile/plan-gateway.ts';
import type { ContainerRef } from './reconcile/plan-types.ts';

export interface MeshRuntimeOptions {
  emit(event: DaemonEvent): void;
  log?: (line: string) => void;
  /** Metrics and access-log sinks handed to every proxy. */
  hooks?: ProxyHooks;
  /** The local CA's side of `x-cmesh.tls` ports (daemon/tls-service.ts). */
  tls?: MeshPortsOptions['tls'];
  /** The east-west gateways (daemon/gateway-wiring.ts); without it east-west stays off. */
  eastWest?: (mesh: MeshRuntime) => EastWestRuntime;
}

/** Best container for a replica index: a running one, else the newest (duplicates are plan()'s to clean up). */
function better(a: ContainerInfo | undefined, b: ContainerInfo): ContainerInfo {
  if (!a) return b;
  if ((a.state === 'running') !== (b.state === 'running')) return a.state === 'running' ? a : b;
  return b.createdAt > a.createdAt ? b : a;
}

export class MeshRuntime {
  readonly registry: Registry;
  readonly ports: MeshPorts;
  readonly eastWest: EastWestRuntime | undefined;
  readonly #o: MeshRuntimeOptions;
  readonly #abort = new AbortController();
  /** Projects whose ports the daemon should hold, with the spec they were published from. */
  readonly #wanted = new Map<string, ProjectSpec>();
  /** One port operation per project at a time (an `up` and a pass's retry must not race to bind). */
  readonly #chains = new Map<string, Promise<unknown>>();
  /** Last bind failure reported per project, so a pass every 10 s does not repeat it. */
  readonly #reported = new Map<string, string>();
  /** Reach networks and engine-said pauses, for the engine's link and pause events (daemon/mesh-links.ts). */
  readonly #links = new ReplicaLinks();

  constructor(options: MeshRuntimeOptions) {
    this.#o = options;
    this.registry = new Registry({ emit: options.emit });
    this.registry.startHealthChecks(this.#abort.signal);
    this.ports = new MeshPorts({
      eastWestStats: (project) => this.eastWest?.stats(project),
      poolFor: (project, service, target) => this.registry.pool(project, service).forPort(target),
      datagramPoolFor: (project, service, target) => this.registry.pool(project, service).forDatagrams(target),
      emit: options.emit,
      log: options.log ?? (() => undefined),
      ...(options.hooks ? { hooks: options.hooks } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
    });
    this.eastWest = options.eastWest?.(this);
  }

  /** East-west: the gateway's image and socket for the planner; undefined when off or the image is not to be had. */
  gatewayContext(desired: DesiredProject): Promise<GatewayContext | undefined> {
    return this.eastWest?.context(desired) ?? Promise.resolve(undefined);
  }

  /** East-west: the daemon's shared gateway as the engine has it now (undefined: there is none). */
  sharedGateway(): Promise<ContainerInfo | undefined> {
    return this.eastWest?.sharedNow() ?? Promise.resolve(undefined);
  }

  /** East-west: resolves once the project's gateways answer for these services by name (at once when not meshed). */
  answeredByName(project: string, services: string[], options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    return this.eastWest?.whenAnswered(project, services, options) ?? Promise.resolve();
  }

  /** Binds the project's published ports before anything is created; CMESH_E_PORT_TAKEN fails the caller's `up`. */
  publish(desired: DesiredProject): Promise<void> {
    const spec = desired.project;
    return this.#serial(spec.name, async () => {
      this.#configure(desired);
      await this.ports.sync(spec, { rollback: true });
      this.#wanted.set(spec.name, spec);
      this.#reported.delete(spec.name);
    });
  }

  /** Like publish, for a project the daemon found on disk at start: failures become error events, not exceptions. */
  adopt(desired: DesiredProject): Promise<void> {
    const spec = desired.project;
    this.#wanted.set(spec.name, spec);
    this.#configure(desired);
    return this.#retryPorts(spec);
  }

  /** Closes the project's listeners and forgets its service table (down). */
  unpublish(project: string): Promise<void> {
    this.#wanted.delete(project);
    this.#reported.delete(project);
    this.#links.forget(project);
    return this.#serial(project, async () => {
      await this.ports.close(project);
      await this.eastWest?.unpublish(project);
      this.registry.removeProject(project);
    });
  }

  /** A full observation of the project's containers: upsert what runs, forget what vanished. */
  observed(desired: DesiredProject, containers: ContainerInfo[]): void {
    const project = desired.project.name;
    const spec = this.#wanted.get(project);
    if (!spec) return;
    this.#configure(desired);
    for (const name of Object.keys(desired.project.services)) {
      const byReplica = new Map<number, ContainerInfo>();
      for (const c of containers) {
        const replica = replicaOf(c.labels);
        // A rollout's new container joins the pool only through the rollout hooks below (under its own id).
        if (c.labels[Labels.service] !== name || replica === undefined || isPendingNext(c)) continue;
        byReplica.set(replica, better(byReplica.get(replica), c));
      }
      const pool = this.registry.pool(project, name);
      for (const [replica, c] of byReplica) {
        this.registry.upsertReplica({ project, service: name, replica, container: c.id, endpoints: c.endpoints, state: this.#links.stateOf(c), health: c.health });
      }
      for (const id of pool.replicaIds()) {
        const replica = parseReplicaId(id)?.replica;
        if (replica !== undefined && byReplica.has(replica)) continue;
        pool.remove(id);
        this.ports.closeUpstream(project, name, id);
      }
    }
    this.#links.observed(project, containers);
    this.eastWest?.observed(desired, containers);
    // A port that was taken at daemon start may be free now.
    void this.#retryPorts(spec);
  }

  /** Drain: out of the balancer at once, in-flight requests get up to graceMs. Only if the pool tracks this container. */
  async beforeStop(project: string, ref: ContainerRef, graceMs: number): Promise<void> {
    if (!this.#tracks(project, ref)) return;
    const drain = this.registry.drain({ project, service: ref.service, replica: ref.replica }, { graceMs });
    // The pool is marked draining synchronously: the table the gateway gets next says so.
    await Promise.all([drain, this.eastWest?.drained(project, `${ref.service}#${ref.replica}`, graceMs)]);
  }

  /**
   * The engine says a container's run ended (`die`, e.g. a crash or an outside `docker kill`): out of rotation now, not
   * at the next observe, which Docker 20.10 can still answer with "running" for a while (the loop's settle wakes come
   * 150 and 600 ms later). A replica reached at its own address makes this matter: once its network is torn down, a
   * connect to it waits for ARP to fail (~2 s here) where a published port was refused at once. Its health must rise
   * again, so a stale "running" from the next list does not route to it either.
   */
  runEnded(project: string, container: string): void {
    this.#leaveRotation(project, container, 'exited');
  }

  /**
   * The engine says a container was paused (or unpaused). A paused replica accepts connections (its kernel still
   * does) and answers nothing, so it leaves rotation now; and since a TCP probe passes against it and Docker 20.10 can
   * list it as running for a while after the event, lists that say "running" are read as "paused" until the unpause
   * event, for at most PAUSE_LIST_LAG_MS (a missed unpause costs no more than that). After it, it rises again.
   */
  runPaused(project: string, container: string, paused: boolean): void {
    this.#links.paused(container, paused);
    if (paused) this.#leaveRotation(project, container, 'paused');
  }

  #leaveRotation(project: string, container: string, state: ContainerState): void {
    for (const row of this.registry.snapshot({ project })) {
      const r = row.replicas.find((x) => x.container === container && x.state === 'running');
      if (r) this.registry.pool(project, row.service).upsert({ id: r.id, replica: r.replica, container, endpoints: r.endpoints, state });
    }
  }

  /**
   * The engine says a container joined or left a network. A replica reached at its own address on that network that
   * left it is a black hole from now on (a connect waits for ARP to fail; requests on its kept-alive connections get
   * no answer): it leaves rotation at once, with no endpoint and its health forfeited (mesh/pool-replicas.ts), and its
   * idle upstream connections close. After the connect, the next observe gives it its address again and it rises
   * like a new replica. Returns the project of any container it observed (a published replica's port comes and goes
   * with its network too), whose loop should look again; undefined for anyone else.
   */
  linkChanged(container: string, network: string, up: boolean): string | undefined {
    const found = this.#links.find(container, network);
    if (found?.reachedOn === true && !up) this.#linkLost(found.project, container);
    return found?.project;
  }

  #linkLost(project: string, container: string): void {
    for (const row of this.registry.snapshot({ project })) {
      const r = row.replicas.find((x) => x.container === container && x.endpoints.length > 0);
      if (!r) continue;
      this.registry.pool(project, row.service).upsert({ id: r.id, replica: r.replica, container, endpoints: [], state: r.state });
      this.ports.closeUpstream(project, row.service, r.id);
    }
  }

  /** After a stop the replica must rise again; after a remove it leaves the pool and the proxies' connection pools. */
  afterStop(project: string, ref: ContainerRef, removed: boolean): void {
    if (!this.#tracks(project, ref)) return;
    const pool = this.registry.pool(project, ref.service);
    const id = replicaId(ref.service, ref.replica);
    if (removed) {
      pool.remove(id);
      this.ports.closeUpstream(project, ref.service, id);
      return;
    }
    const row = pool.row().replicas.find((r) => r.replica === ref.replica);
    pool.upsert({ replica: ref.replica, container: ref.id, endpoints: row?.endpoints ?? [], state: 'exited' });
    pool.setDraining(id, false);
  }

  /** Start-first rollout (daemon/mesh-rollout.ts): the new container beside the old one until it passes probes. */
  rolloutWaitHealthy(project: string, next: ContainerRef, endpoints: Endpoint[], timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return waitNextHealthy(this.#rolloutDeps(), project, next, endpoints, timeoutMs, signal);
  }

  rolloutDiscard(project: string, next: ContainerRef): void {
    discardNext(this.#rolloutDeps(), project, next);
  }

  rolloutPromote(project: string, next: ContainerRef): void {
    promoteNext(this.#rolloutDeps(), project, next);
  }

  #rolloutDeps() {
    return { registry: this.registry, closeUpstream: (p: string, s: string, id: string) => this.ports.closeUpstream(p, s, id) };
  }

  /** `cmesh port`: the host port a published mapping is bound on (for a host range, the one its listener took). */
  publishedPort(project: string, m: PublishedMapping): number {
    return boundPort(this.ports.bindings(project), m);
  }

  /** True once the pool serves this exact container again (healthy after its rise checks, not draining). */
  replicaServing(project: string, ref: ContainerRef): boolean {
    const pools = this.registry.list(project).filter((p) => p.service === ref.service);
    return pools.some((p) =>
      p.row().replicas.some((r) => r.replica === ref.replica && r.container === ref.id && r.health.active === 'healthy' && !r.draining),
    );
  }

  /** The service table; for east-west projects with the gateway's view of each meshed service joined in. */
  services(project?: string): ServiceTableRow[] {
    const snapshot = withBoundPorts(this.registry.snapshot(project === undefined ? {} : { project }), this.ports.bindings(project));
    const rows = withBreakers(snapshot, this.ports.breakerStats());
    if (!this.eastWest) return rows;
    const projects = new Set(rows.map((r) => r.project));
    return [...projects].flatMap((p) =>
      withEastWest(this.eastWest?.desired(p), rows.filter((r) => r.project === p), this.eastWest?.stats(p)),
    );
  }

  /** Daemon stop: listeners close (containers keep running for the next daemon), health checks end. */
  async close(): Promise<void> {
    this.#wanted.clear();
    this.#abort.abort();
    await this.ports.close();
    await this.eastWest?.close();
  }

  #tracks(project: string, ref: ContainerRef): boolean {
    const pools = this.registry.list(project).filter((p) => p.service === ref.service);
    return pools.some((p) => p.row().replicas.some((r) => r.replica === ref.replica && r.container === ref.id));
  }

  /** Strategy, weights, probe and published ports per service; desired = the effective count (scale, stop). */
  #configure(desired: DesiredProject): void {
    const spec = desired.project;
    for (const svc of Object.values(spec.services)) {
      const replicas = desired.stopped.includes(svc.name) ? 0 : desiredReplicas(desired, svc.name);
      this.registry.configureService(spec.name, { ...svc, replicas });
    }
    for (const pool of this.registry.list(spec.name)) {
      if (!(pool.service in spec.services)) this.registry.removeService(spec.name, pool.service);
    }
  }

  #retryPorts(spec: ProjectSpec): Promise<void> {
    return this.#serial(spec.name, async () => {
      if (this.#wanted.get(spec.name) !== spec) return;
      try {
        await this.ports.sync(spec, { rollback: false });
        this.#reported.delete(spec.name);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (this.#reported.get(spec.name) === message) return;
        this.#reported.set(spec.name, message);
        this.#o.log?.(`project ${spec.name}: ${message}`);
        if (isCmeshError(err)) this.#o.emit({ type: 'error', time: Date.now(), project: spec.name, error: err.toJSON() });
      }
    }).catch(() => undefined);
  }

  #serial<T>(project: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.#chains.get(project) ?? Promise.resolve()).then(fn);
    this.#chains.set(
      project,
      run.catch(() => undefined),
    );
    return run;
  }
}
