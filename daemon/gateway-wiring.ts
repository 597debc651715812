// The daemon's side of the east-west mesh: builds the gateway image on demand, opens each project's control socket
// for the planner, and keeps every gateway's endpoint table in step with the daemon's service table.

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DesiredProject } from './api/desired.ts';
import { eastWestPlan, gatewayName } from './api/east-west.ts';
import type { ContainerEngine, ContainerInfo } from './api/engine.ts';
import { isGateway } from './api/labels.ts';
import { isCmeshError } from './api/errors.ts';
import type { DaemonEvent } from './api/events.ts';
import type { GatewayStats } from './api/gateway-control.ts';
import type { FaultSpec } from './api/traffic-policy.ts';
import { GatewayHub } from './gateway-hub.ts';
import { drainedEverywhere } from './gateway-hub-drain.ts';
import { GatewayDrains } from './gateway-rollout-hooks.ts';
import { type GatewayImage, GatewayImages } from './gateway-images.ts';
import { type AnsweredWait, answeredByName, NameReadiness } from './gateway-readiness.ts';
import { gatewayTable, gatewayTableKey } from './gateway-table.ts';
import { GatewayPayload } from './gateway-payload.ts';
import { type GatewayContext, gatewayPlacement } from './reconcile/plan-gateway.ts';
import { projectNetworkNames } from './reconcile/plan-gateway-shared.ts';
import { SharedGateway } from './gateway-shared.ts';
import type { ServiceTableRow } from './api/service-table.ts';

/** A drain waits at most this long for the gateway (a gateway that stopped answering must not hold up a stop). */
const MAX_GATEWAY_DRAIN_MS = 30_000;
const DRAIN_POLL_MS = 20;

export interface EastWestOptions {
  home: string;
  engine: ContainerEngine;
  /** The daemon's service table rows of a project (replicas, drain), read whenever a table is sent. */
  rows: (project: string) => ServiceTableRow[];
  emit: (event: DaemonEvent) => void;
  log?: (line: string) => void;
  /** How often tables are compared and re-sent when changed (default 100 ms: a drain reaches the gateway fast). */
  publishMs?: number;
  /** Every report of a gateway (metrics turn its request totals into path="east-west" counters). */
  onStats?: (project: string, stats: GatewayStats) => void;
  /** The run-time faults (`cmesh fault`) in effect per service: sent in the table, so they reach the gateway too. */
  faults?: (project: string) => Record<string, FaultSpec>;
  /**
   * Serve every project's first gateway from the daemon's one shared gateway container (daemon/gateway-shared.ts; the
   * daemon's default, CMESH_GATEWAY_SHARED=0 turns it off) instead of a container per project.
   */
  shared?: boolean;
}

export class EastWestRuntime {
  readonly hub: GatewayHub;
  readonly #o: EastWestOptions;
  readonly #images: GatewayImages;
  readonly #desired = new Map<string, DesiredProject>();
  readonly #timer: NodeJS.Timeout;
  /** Last image error reported, so a pass every 10 s does not repeat it. */
  #reported: string | undefined;
  /** The worker bundle and the host's node the gateways run. */
  readonly #payload: GatewayPayload;
  /** project → the worker bundle installed in its gateway directory, named in its tables. */
  readonly #workers = new Map<string, string>();
  /**
   * project → its gateway containers as last observed: where each service sits (sticky placement) follows from them.
   * A project absent here has not been observed by this daemon yet: no table is made for it (#publish says why).
   */
  readonly #gateways = new Map<string, ContainerInfo[]>();
  /** project → service → gateway index, made anew only when the desired state or the gateways change (not per tick). */
  readonly #placement = new Map<string, ReadonlyMap<string, number>>();
  /**
   * project → gatewayTableKey of the table last handed to the hub. A tick with the same key (and no new desired state,
   * placement or worker: #place forgets the key) makes no table: the rows alone are read.
   */
  readonly #made = new Map<string, string>();
  /** Projects the planner got a gateway context for: only their meshed names are the gateways' to answer. */
  readonly #withGateway = new Set<string>();
  readonly #readiness = new NameReadiness();
  /** Gateway containers being replaced start-first, named in the table so they drain. */
  readonly #drains = new GatewayDrains();
  /** The daemon's shared gateway: made and joined in shared mode, and left by projects in any mode once seen. */
  readonly #shared: SharedGateway;

  constructor(options: EastWestOptions) {
    this.#o = options;
    this.hub = new GatewayHub(options.home, options.log, (project, stats) => {
      options.onStats?.(project, stats);
      this.#readiness.notify();
    });
    // The image's content tag is kept in the home between daemon runs: found without hashing the node binary again.
    const tagCache = join(options.home, 'gateway-image-tag.json');
    this.#payload = new GatewayPayload(options.home);
    this.#images = new GatewayImages({ engine: options.engine, tagCache, ...(options.log ? { log: options.log } : {}) });
    this.#shared = new SharedGateway({ engine: options.engine, home: options.home, root: this.hub.root, on: options.shared === true, ...(options.log ? { log: options.log } : {}) });
    this.#timer = setInterval(() => this.#publishAll(), options.publishMs ?? 100);
    this.#timer.unref();
  }

  /**
   * The planner's gateway context; undefined when east-west is off or the image's tag cannot be had (reported once).
   * The tag is known in milliseconds; the image itself (built on a machine's first use) is only awaited by the
   * gateway's create, so the pass plans, and replicas start, while it builds.
   */
  async context(desired: DesiredProject): Promise<GatewayContext | undefined> {
    if (desired.project.eastWest !== true || eastWestPlan(desired.project).services.length === 0) return undefined;
    const project = desired.project.name;
    try {
      const [image, worker, socketDir] = await Promise.all([this.#images.get(), this.#payload.worker(), this.hub.open(project)]);
      // The host's node for the workers, unless the image's node is not the host's (CMESH_GATEWAY_BASE_IMAGE).
      const runtime = image.hostNode ? await this.#payload.runtime() : undefined;
      // Before the gateway exists (its supervisor starts what the pointer names) and before the table names it. The
      // shared gateway's worker sits at the root, installed once a daemon; a project's own gateway directory gets one
      // only when one of its own is made (the same bundle: the table names one worker for both).
      const own = () => this.#payload.install(socketDir, worker, runtime);
      this.#workers.set(project, this.#shared.on ? await this.#payload.installOnce(this.hub.root, worker, runtime) : await own());
      this.#desired.set(project, desired);
      this.#place(project);
      this.#publish(project);
      this.#withGateway.add(project);
      const rollout = this.#drains.hooks(project, { reportOf: (host) => this.hub.reportOf(project, host), publish: () => this.#publish(project) });
      const shared = this.#shared.on ? { shared: this.#sharedContext(project, image) } : {};
      const own$ = this.#shared.on ? { beforeCreate: async () => void (await own()) } : {};
      return { image: image.tag, identity: image.identity, socketDir, imageReady: this.#ready(project, image), rollout, ...shared, ...own$ };
    } catch (err) {
      this.#withGateway.delete(project);
      this.#report(project, err);
      return undefined;
    }
  }

  /**
   * Finds (or builds) the gateway image and the worker bundle now, in the background, so that a first east-west `up`
   * does not wait for them (a build takes seconds; even finding the content-addressed tag hashes the node binary).
   * A failure is only logged: the gateway's create reports it to the project.
   */
  prepare(): void {
    const started = Date.now();
    void Promise.all([this.#images.get().then((image) => image.present), this.#payload.worker()]).then(
      ([image]) => this.#o.log?.(`east-west gateway image ${image} ready (${Date.now() - started} ms after the daemon's start)`),
      (err: unknown) => this.#o.log?.(`east-west gateway image not prepared ahead: ${err instanceof Error ? err.message : String(err)}`),
    );
  }

  /** The daemon's shared gateway as the engine has it now; undefined when there is none (east-west's planner looks). */
  sharedNow(): Promise<ContainerInfo | undefined> {
    return this.#shared.now();
  }

  /** A fresh observation: the table follows the latest desired state and where the gateways place each service. */
  observed(desired: DesiredProject, containers: ContainerInfo[]): void {
    if (desired.project.eastWest !== true) return;
    const project = desired.project.name;
    this.#gateways.set(project, containers.filter(isGateway));
    this.#desired.set(project, desired);
    this.#place(project);
    this.#publish(project);
    // Its addresses on the project's networks may have changed with the pass (a join, a leave): looked at again.
    if (this.#shared.on) void this.#shared.now('changed').then(() => this.#publish(project), () => undefined);
  }

  /** The desired state the project's gateway table was last made from (east-west projects only). */
  desired(project: string): DesiredProject | undefined {
    return this.#desired.get(project);
  }

  /**
   * The drain's east-west half: the gateways are told at once and the stop waits until every one that reports (both
   * while one replaces the other) shows the replica draining with nothing in flight (bounded; gateway-hub-drain.ts).
   * No gateway connected (or one that never knew the replica): nothing to wait for.
   */
  async drained(project: string, id: string, graceMs: number): Promise<void> {
    if (!this.#desired.has(project) || !this.hub.connected(project)) return;
    const since = Date.now();
    this.#publish(project);
    const deadline = since + Math.min(graceMs, MAX_GATEWAY_DRAIN_MS);
    while (Date.now() < deadline) {
      // Every gateway process's report, not the newest per index: an old gateway and its `-next` both serve.
      if (drainedEverywhere(this.hub.allReports(project), id, since, Date.now())) return;
      await sleep(DRAIN_POLL_MS);
    }
  }

  stats(project: string): GatewayStats | undefined {
    return this.hub.stats(project);
  }

  /**
   * Whether callers of `service` by name get an answer: its gateway listens on all its ports. True for a service that
   * is not meshed, and in a project whose gateway the planner could not have (no context): Docker DNS answers then.
   */
  answers(project: string, service: string): boolean {
    if (!this.#withGateway.has(project)) return true;
    return answeredByName(this.hub.reports(project), this.#placement.get(project)?.get(service), service);
  }

  /** Resolves once every one of `services` is answered by name (answers()); CMESH_E_TIMEOUT names the rest. */
  whenAnswered(project: string, services: readonly string[], options: AnsweredWait): Promise<void> {
    const pending = (): string[] => services.filter((s) => !this.answers(project, s));
    if (pending().length === 0) return Promise.resolve();
    const hint = `the gateway's log says why: docker logs ${gatewayName(project)} (or opt the service out with x-cmesh.mesh: false)`;
    const warnings = (): string[] => this.hub.reports(project).flatMap((r) => r.warnings);
    return this.#readiness.until(pending, `the east-west gateway of ${project}`, hint, { warnings, ...options });
  }

  async unpublish(project: string): Promise<void> {
    this.#desired.delete(project);
    this.#workers.delete(project);
    this.#gateways.delete(project);
    this.#placement.delete(project);
    this.#withGateway.delete(project);
    this.#drains.clear(project);
    this.#made.delete(project);
    await this.hub.close(project);
    // The shared gateway's worker serves a project while its directory is there: gone, its listeners close at once.
    if (this.#shared.on) await rm(this.hub.socketDir(project), { recursive: true, force: true });
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#images.close();
    this.#desired.clear();
    await this.hub.close();
    // One that no project is on goes with the daemon; one that serves projects keeps serving them meanwhile.
    await this.#shared.removeIfUnused().catch((err: unknown) => this.#o.log?.(`shared east-west gateway not removed: ${String(err)}`));
  }

  /** The planner's view of the shared gateway: made (once) on the image, and the table told after each join. */
  #sharedContext(project: string, image: GatewayImage): NonNullable<GatewayContext['shared']> {
    // Looked at first: one that stopped since it was made is started again by this very pass (ensure() keeps a made one).
    const ready = this.#shared.now().then(() => this.#shared.ensure({ tag: image.tag, identity: image.identity ?? image.tag, present: image.present }));
    ready.catch((err: unknown) => this.#report(project, err));
    const joined = async (): Promise<void> => {
      await this.#shared.now('changed');
      this.#publish(project);
    };
    return { name: this.#shared.name, ready, joined };
  }

  /** What the gateway's create awaits: the image present. A failed build fails that create, and is reported once. */
  #ready(project: string, image: GatewayImage): Promise<void> {
    const ready = image.present.then(() => {
      this.#reported = undefined;
    });
    ready.catch((err: unknown) => this.#report(project, err));
    return ready;
  }

  #report(project: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (this.#reported === message) return;
    this.#reported = message;
    this.#o.log?.(`east-west gateway for ${project}: ${message}`);
    if (isCmeshError(err)) this.#o.emit({ type: 'error', time: Date.now(), project, error: err.toJSON() });
  }

  #publishAll(): void {
    for (const project of this.#desired.keys()) this.#publish(project);
  }

  /**
   * From the desired state of now, not of the last observation: a service just added must not land on a running
   * gateway's table (that gateway would re-bind its port), but on the new gateway the next pass creates for it.
   */
  #place(project: string): void {
    // Called whenever the desired state, the gateways or the worker change: the next publish makes its table afresh.
    this.#made.delete(project);
    const desired = this.#desired.get(project);
    if (desired) this.#placement.set(project, gatewayPlacement(desired.project, this.#gateways.get(project) ?? []).byService);
  }

  #publish(project: string): void {
    const desired = this.#desired.get(project);
    // Not before this daemon's first full observation of the project: until then its service table knows the services
    // but none of their replicas (a daemon just started; the pass looks the context up beside the observation), and a
    // table made from it would empty every pool of a running gateway: 503 no-healthy-replica to callers by name until
    // the next table and the gateway's own probes (the east-west-gateway-crash e2e). The gateway serves its last table
    // meanwhile; a new gateway is only created after the observation, in the same pass.
    if (!desired || !this.#gateways.has(project)) return;
    const rows = this.#o.rows(project);
    const { drain, retire } = this.#drains.lists(project);
    const faults = this.#o.faults?.(project);
    const sharedAddresses = this.#shared.on ? this.#shared.addressesOn(projectNetworkNames(desired.project)) : [];
    const key = `${gatewayTableKey(rows, { ...(faults === undefined ? {} : { faults }), drain, retire })}\n${sharedAddresses.join(',')}`;
    if (this.#made.get(project) === key) return;
    const extras = { worker: this.#workers.get(project), faults, placement: this.#placement.get(project), drain, retire, sharedAddresses };
    if (this.hub.publish(project, gatewayTable(desired, rows, extras))) this.#made.set(project, key);
    else this.#made.delete(project);
  }
}
