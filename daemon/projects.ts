// Project manager: one reconcile loop per project, desired state in and out of the store, per-project serialization,
// and the engine event subscription that wakes the right loop (reconnecting with backoff when the stream drops).

import type {
  BuildRequest,
  BuildResult,
  DownRequest,
  ProjectSummary,
  ReplicaStatus,
  ScaleRequest,
  ServicesRequest,
  SyncRequest,
  SyncResult,
  UpRequest,
} from './api/control.ts';
import type { DesiredProject } from './api/desired.ts';
import type { ContainerEngine, ContainerInfo, ContainerState, Endpoint, EngineEvent } from './api/engine.ts';
import { CmeshError } from './api/errors.ts';
import type { DaemonEvent } from './api/events.ts';
import { isPendingNext, Labels, projectLabels } from './api/labels.ts';
import { buildServices } from '../builder/build.ts';
import { syncFiles } from '../builder/sync.ts';
import { activeServices, assertServices, mergeScale, mergeStopped, mergeUp, replicaCounts } from './desired-merge.ts';
import type { EventBus } from './event-bus.ts';
import { SETTLE_WAKES_MS, SETTLING_ACTIONS, watchEngine } from './engine-watch.ts';
import { ensureImages } from './images.ts';
import { Mutex } from './mutex.ts';
import { assertProjectExists, projectSummaries, replicaRows } from './project-views.ts';
import { ProjectReconciler, type ReconcilerOptions } from './reconcile/loop.ts';
import type { ContainerRef } from './reconcile/plan-types.ts';
import type { DesiredStore } from './store.ts';

/** What the manager needs from a reconcile loop (daemon/reconcile/loop.ts). */
export interface Reconciler {
  wake(reason: string): void;
  reconcileNow(): Promise<unknown>;
  waitReady(options: { services: string[]; timeoutMs: number; signal?: AbortSignal }): Promise<void>;
  status(): ReplicaStatus[];
  down(options: { volumes: boolean; removeOrphans: boolean }): Promise<unknown>;
}

/** What the manager needs from the mesh (daemon/mesh-wiring.ts): published ports, the service table, drains. */
export interface ProjectMesh {
  /** Binds the published ports before anything is created; throws CMESH_E_PORT_TAKEN. */
  publish(desired: DesiredProject): Promise<void>;
  /** Same for a project loaded at daemon start; failures are reported as events, never thrown. */
  adopt(desired: DesiredProject): Promise<void>;
  unpublish(project: string): Promise<void>;
  observed(desired: DesiredProject, containers: ContainerInfo[]): void;
  beforeStop(project: string, ref: ContainerRef, graceMs: number): Promise<void>;
  afterStop(project: string, ref: ContainerRef, removed: boolean): void;
  /** Start-first rollouts (daemon/mesh-rollout.ts); without them a new replica is judged by the engine alone. */
  rolloutWaitHealthy?(project: string, next: ContainerRef, endpoints: Endpoint[], timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  rolloutDiscard?(project: string, next: ContainerRef): void;
  rolloutPromote?(project: string, next: ContainerRef): void;
  /** Whether the pool serves this container again; `restart` waits for it before taking the next replica down. */
  replicaServing?(project: string, ref: ContainerRef): boolean;
}

export interface ProjectManagerOptions {
  engine: ContainerEngine;
  store: DesiredStore;
  bus: EventBus;
  resyncMs?: number;
  /** Backoff of the engine event stream reconnect (tests shorten it). */
  reconnect?: { initialMs: number; maxMs: number };
  mesh?: ProjectMesh;
}

interface Entry {
  reconciler: Reconciler;
  abort: AbortController;
}

const DEFAULT_WAIT_MS = 120_000;
/** How long a rolling restart waits for one proxied replica to serve again before it moves on. */
const ROLLING_RESTART_WAIT_MS = 30_000;

export class ProjectManager {
  readonly #o: ProjectManagerOptions;
  readonly #desired = new Map<string, DesiredProject>();
  readonly #loops = new Map<string, Entry>();
  // Mutexes outlive their project so an `up` queued behind a `down` still serializes with it.
  readonly #locks = new Map<string, Mutex>();
  readonly #engineListeners = new Set<(event: EngineEvent) => void>();
  readonly #abort = new AbortController();
  #watching: Promise<void> | undefined;

  constructor(options: ProjectManagerOptions) {
    this.#o = options;
  }

  get engine(): ContainerEngine {
    return this.#o.engine;
  }

  /** Loads persisted projects and starts their loops; their first pass adopts the containers already running. */
  async open(): Promise<void> {
    for (const [name, desired] of await this.#o.store.loadAll()) {
      this.#desired.set(name, desired);
      await this.#o.mesh?.adopt(desired);
      this.#loop(name).reconciler.wake('daemon start: adopt existing containers');
    }
    this.#watching = this.#watchEngine(this.#abort.signal);
  }

  /** Stops every loop; containers keep running (the next daemon adopts them). */
  async close(): Promise<void> {
    this.#abort.abort();
    for (const entry of this.#loops.values()) entry.abort.abort();
    this.#loops.clear();
    await this.#watching;
  }

  get projectCount(): number {
    return this.#desired.size;
  }

  desired(name: string): DesiredProject | undefined {
    return this.#desired.get(name);
  }

  /** Engine events for cmesh objects (logs follow uses them to pick up new replicas). */
  onEngineEvent(listener: (event: EngineEvent) => void): () => void {
    this.#engineListeners.add(listener);
    return () => this.#engineListeners.delete(listener);
  }

  async list(): Promise<ProjectSummary[]> {
    const containers = await this.#o.engine.listContainers({ labels: { [Labels.managed]: 'true' }, all: true });
    return projectSummaries(containers, this.#desired);
  }

  /** Known = has desired state or still owns engine objects (e.g. state lost): such a project can be inspected and downed. */
  async requireKnown(name: string): Promise<void> {
    if (!this.#desired.has(name)) await assertProjectExists(this.#o.engine, name);
  }

  async ps(name: string, all: boolean, services: string[] = []): Promise<ReplicaStatus[]> {
    await this.requireKnown(name);
    const supervised = this.#loops.get(name)?.reconciler.status() ?? [];
    return replicaRows(await this.#o.engine.listContainers({ labels: projectLabels(name), all: true }), supervised, { all, services });
  }

  up(name: string, request: UpRequest, signal?: AbortSignal): Promise<unknown> {
    if (request.project?.name !== name) {
      throw new CmeshError('CMESH_E_USAGE', `request body is for project "${request.project?.name}", not "${name}"`);
    }
    return this.#lock(name).run(async () => {
      const prev = this.#desired.get(name);
      const draft = mergeUp(prev, request.project, request);
      const services = activeServices(draft);
      const emit = (e: DaemonEvent): void => this.#o.bus.publish(e);
      const project = await ensureImages({ ...this.#withSignal(signal), engine: this.#o.engine, project: request.project, services, build: request.build, emit });
      const desired = { ...draft, project };
      // Ports first: a taken port fails the up before any state is saved or container created.
      await this.#o.mesh?.publish(desired);
      await this.#commit(desired);
      const unstopped = (prev?.stopped ?? []).filter((s) => !desired.stopped.includes(s));
      if (unstopped.length > 0) await this.#startStopped(name, unstopped);
      this.#publish({ type: 'project', project: name, action: 'up', services: replicaCounts(desired) });
      const reconcile = await this.#loop(name).reconciler.reconcileNow();
      if (request.wait) await this.#waitReady(name, services, request.timeoutMs, signal);
      return { generation: desired.generation, reconcile, replicas: await this.ps(name, true) };
    });
  }

  async down(name: string, request: DownRequest): Promise<unknown> {
    await this.requireKnown(name);
    return this.#lock(name).run(async () => {
      // Forget the desired state first so no wake-up in between recreates what down removes.
      this.#desired.delete(name);
      await this.#o.store.remove(name);
      const reconciler = this.#loop(name).reconciler;
      try {
        // Listeners close first (in-flight requests finish on still-running replicas), then the containers go.
        await this.#o.mesh?.unpublish(name);
        const result = await reconciler.down({ volumes: request.volumes, removeOrphans: request.removeOrphans });
        this.#publish({ type: 'project', project: name, action: 'down' });
        return result;
      } finally {
        this.#loops.get(name)?.abort.abort();
        this.#loops.delete(name);
      }
    });
  }

  scale(name: string, request: ScaleRequest, signal?: AbortSignal): Promise<unknown> {
    return this.#lock(name).run(async () => {
      const desired = mergeScale(this.#requireDesired(name), request.services);
      await this.#commit(desired);
      this.#publish({ type: 'project', project: name, action: 'scaled', services: replicaCounts(desired) });
      const reconcile = await this.#loop(name).reconciler.reconcileNow();
      if (request.wait) await this.#waitReady(name, Object.keys(request.services), request.timeoutMs, signal);
      return { generation: desired.generation, reconcile, replicas: await this.ps(name, true) };
    });
  }

  /** Stop keeps the containers; the desired state remembers it so the loop does not restart them. */
  stop(name: string, request: ServicesRequest): Promise<unknown> {
    return this.#lock(name).run(async () => {
      const desired = mergeStopped(this.#requireDesired(name), request.services, true);
      await this.#commit(desired);
      await this.#eachContainer(name, request.services, (id, c) =>
        this.#drained(name, c, request, () => this.#o.engine.stopContainer(id, this.#stopTimeoutSec(request))),
      );
      this.#publish({ type: 'project', project: name, action: 'stopped' });
      await this.#loop(name).reconciler.reconcileNow();
      return { replicas: await this.ps(name, true) };
    });
  }

  start(name: string, request: ServicesRequest): Promise<unknown> {
    return this.#lock(name).run(async () => {
      const desired = mergeStopped(this.#requireDesired(name), request.services, false);
      await this.#commit(desired);
      await this.#startStopped(name, request.services);
      this.#publish({ type: 'project', project: name, action: 'started' });
      await this.#loop(name).reconciler.reconcileNow();
      return { replicas: await this.ps(name, true) };
    });
  }

  restart(name: string, request: ServicesRequest): Promise<unknown> {
    return this.#lock(name).run(async () => {
      const desired = this.#requireDesired(name);
      assertServices(desired.project, request.services);
      // Rolling: one replica of a service at a time (services in parallel), and a proxied replica must serve again
      // before the next one goes down, so a restart never empties a pool.
      const byService = new Map<string, ContainerInfo[]>();
      await this.#eachContainer(name, request.services, async (_id, c) => {
        const list = byService.get(c.labels[Labels.service] ?? '') ?? [];
        list.push(c);
        byService.set(c.labels[Labels.service] ?? '', list);
      });
      await Promise.all(
        [...byService.values()].map(async (list) => {
          for (const c of list.sort((a, b) => a.name.localeCompare(b.name))) {
            await this.#drained(name, c, request, () => this.#o.engine.stopContainer(c.id, this.#stopTimeoutSec(request)));
            await this.#o.engine.startContainer(c.id);
            if (c.state === 'running') await this.#untilServing(name, c, list.length > 1);
          }
        }),
      );
      await this.#loop(name).reconciler.reconcileNow();
      return { replicas: await this.ps(name, true) };
    });
  }

  /** `cmesh build`: builds without touching the running project (that is `up --build`). Not serialized with `up`. */
  async build(name: string, request: BuildRequest, signal?: AbortSignal): Promise<Record<string, BuildResult>> {
    assertServices(request.project, request.services);
    const all = Object.values(request.project.services);
    const services = request.services.length === 0 ? all : all.filter((s) => request.services.includes(s.name));
    const built = await buildServices({
      engine: this.#o.engine,
      project: name,
      services,
      noCache: request.noCache,
      emit: (e) => this.#o.bus.publish(e),
      ...this.#withSignal(signal),
    });
    return Object.fromEntries(Object.entries(built).map(([s, b]) => [s, { image: b.image, cached: b.cached, durationMs: b.durationMs }]));
  }

  /** Watch `sync`: copies files into every running replica, then (sync+restart) restarts them one at a time, drained. */
  sync(name: string, request: SyncRequest): Promise<SyncResult> {
    return this.#lock(name).run(async () => {
      const started = Date.now();
      assertServices(this.#requireDesired(name).project, [request.service]);
      const labels = { ...projectLabels(name), [Labels.service]: request.service };
      const replicas = (await this.#o.engine.listContainers({ labels, all: false })).filter((c) => c.state === 'running' && !isPendingNext(c));
      const result = await syncFiles({ engine: this.#o.engine, containerIds: replicas.map((c) => c.id), files: request.files });
      let restarted = 0;
      if (request.restart) {
        for (const c of replicas) {
          await this.#drained(name, c, { services: [request.service] }, () => this.#o.engine.stopContainer(c.id));
          await this.#o.engine.startContainer(c.id);
          restarted++;
        }
        this.wake(name, 'sync+restart');
      }
      return { containers: replicas.length, ...result, restarted, durationMs: Date.now() - started };
    });
  }

  wake(name: string, reason: string): void {
    this.#loops.get(name)?.reconciler.wake(reason);
  }

  #wakeLater(name: string, action: string): void {
    for (const ms of SETTLE_WAKES_MS) {
      // unref: a pending follow-up never keeps the process alive; the loop ignores wakes after its abort.
      setTimeout(() => this.wake(name, `engine ${action} settled`), ms).unref();
    }
  }

  #lock(name: string): Mutex {
    const m = this.#locks.get(name) ?? new Mutex();
    this.#locks.set(name, m);
    return m;
  }

  #requireDesired(name: string): DesiredProject {
    const d = this.#desired.get(name);
    if (d) return d;
    throw new CmeshError('CMESH_E_PROJECT_NOT_FOUND', `project "${name}" is not up`, {
      hint: 'run `cmesh up` in the project directory first (`cmesh ls` lists known projects)',
      details: { project: name },
    });
  }

  async #commit(desired: DesiredProject): Promise<void> {
    await this.#o.store.save(desired);
    this.#desired.set(desired.project.name, desired);
  }

  #loop(name: string): Entry {
    let entry = this.#loops.get(name);
    if (entry) return entry;
    const abort = new AbortController();
    const reconciler: Reconciler = new ProjectReconciler({
      engine: this.#o.engine,
      name,
      getDesired: () => this.#desired.get(name),
      emit: (e: DaemonEvent) => this.#o.bus.publish(e),
      signal: abort.signal,
      ...(this.#o.resyncMs === undefined ? {} : { resyncMs: this.#o.resyncMs }),
      wake: (listener) => this.onEngineEvent((event) => {
        if (event.labels[Labels.project] === name) listener();
      }),
      ...this.#meshHooks(name),
    });
    entry = { reconciler, abort };
    this.#loops.set(name, entry);
    return entry;
  }

  async #waitReady(name: string, services: string[], timeoutMs: number | undefined, signal?: AbortSignal): Promise<void> {
    await this.#loop(name).reconciler.waitReady({
      services,
      timeoutMs: timeoutMs ?? DEFAULT_WAIT_MS,
      ...this.#withSignal(signal),
    });
  }

  async #eachContainer(
    name: string,
    services: string[],
    fn: (id: string, c: ContainerInfo) => Promise<void>,
    states?: ContainerState[],
  ): Promise<void> {
    const containers = await this.#o.engine.listContainers({ labels: projectLabels(name), all: true });
    const chosen = containers
      .filter((c) => services.length === 0 || services.includes(c.labels[Labels.service] ?? ''))
      .filter((c) => !states || states.includes(c.state));
    await Promise.all(chosen.map((c) => fn(c.id, c)));
  }

  /**
   * After restarting one replica of a rolling restart: re-observe (the engine may give it a new host port) and wait,
   * bounded, until the pool serves it again. A replica the mesh does not route, or the last one, is not waited for.
   */
  async #untilServing(name: string, c: ContainerInfo, others: boolean): Promise<void> {
    const mesh = this.#o.mesh;
    const service = c.labels[Labels.service];
    const replica = Number(c.labels[Labels.replica]);
    if (!others || !mesh?.replicaServing || service === undefined || !(replica > 0)) return;
    const ref: ContainerRef = { id: c.id, name: c.name, service, replica };
    const routed = this.#desired.get(name)?.project.services[service]?.ports.some((p) => p.published !== undefined);
    if (!routed) return;
    const deadline = Date.now() + ROLLING_RESTART_WAIT_MS;
    await this.#loop(name).reconciler.reconcileNow();
    while (!mesh.replicaServing(name, ref) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  }

  /** The mesh drains a running replica before `stop` runs, and lets it rise again after. */
  async #drained(name: string, c: ContainerInfo, request: ServicesRequest, stop: () => Promise<void>): Promise<void> {
    const mesh = this.#o.mesh;
    const service = c.labels[Labels.service];
    const replica = Number(c.labels[Labels.replica]);
    if (!mesh || c.state !== 'running' || service === undefined || !(replica > 0)) return stop();
    const ref: ContainerRef = { id: c.id, name: c.name, service, replica };
    const spec = this.#desired.get(name)?.project.services[service];
    const graceMs = Math.min(request.timeoutMs ?? spec?.stopGracePeriodMs ?? 10_000, 30_000);
    await mesh.beforeStop(name, ref, graceMs);
    try {
      await stop();
    } finally {
      mesh.afterStop(name, ref, false);
    }
  }

  #meshHooks(name: string): Pick<ReconcilerOptions, 'onObserved' | 'stopHooks' | 'rolloutHooks'> {
    const mesh = this.#o.mesh;
    if (!mesh) return {};
    return {
      onObserved: (containers) => {
        const desired = this.#desired.get(name);
        if (desired) mesh.observed(desired, containers);
      },
      stopHooks: {
        beforeStop: (ref, graceMs) => mesh.beforeStop(name, ref, graceMs),
        afterStop: (ref, removed) => mesh.afterStop(name, ref, removed),
      },
      ...(mesh.rolloutWaitHealthy
        ? {
            rolloutHooks: {
              waitHealthy: (next, endpoints, timeoutMs, signal) => mesh.rolloutWaitHealthy!(name, next, endpoints, timeoutMs, signal),
              discard: (next) => mesh.rolloutDiscard?.(name, next),
              promote: (next) => mesh.rolloutPromote?.(name, next),
            },
          }
        : {}),
    };
  }

  /** What the user stopped comes back as the same containers (like Compose), whatever their restart policy says. */
  #startStopped(name: string, services: string[]): Promise<void> {
    return this.#eachContainer(name, services, (id) => this.#o.engine.startContainer(id), ['exited', 'created']);
  }

  #stopTimeoutSec(request: ServicesRequest): number | undefined {
    return request.timeoutMs === undefined ? undefined : Math.ceil(request.timeoutMs / 1000);
  }

  #withSignal(signal: AbortSignal | undefined): { signal?: AbortSignal } {
    return signal ? { signal } : {};
  }

  #publish(e: Omit<Extract<DaemonEvent, { type: 'project' }>, 'time'>): void {
    this.#o.bus.publish({ time: Date.now(), ...e } as DaemonEvent);
  }

  /** Events only wake loops (they re-list); after a drop every loop is woken because events may have been missed. */
  #watchEngine(signal: AbortSignal): Promise<void> {
    return watchEngine({
      engine: this.#o.engine,
      signal,
      ...(this.#o.reconnect ? { initialMs: this.#o.reconnect.initialMs, maxMs: this.#o.reconnect.maxMs } : {}),
      onEvent: (event) => {
        const project = event.labels[Labels.project];
        if (project) {
          this.wake(project, `engine ${event.type} ${event.action}`);
          if (SETTLING_ACTIONS.has(event.action)) this.#wakeLater(project, event.action);
        }
        for (const listener of this.#engineListeners) listener(event);
      },
      onReconnect: () => {
        for (const name of this.#loops.keys()) this.wake(name, 'engine event stream reconnected');
      },
      onError: (error) => this.#o.bus.publish({ type: 'error', time: Date.now(), project: '', error: error.toJSON() }),
    });
  }
}
