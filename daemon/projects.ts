// Project manager: the lifecycle verbs (up, down, scale, stop, start, restart, build, sync), desired state in and out
// of the store, and per-project serialization. Loops and engine events live in project-loops.ts, the mesh port and
// its drains in project-mesh.ts, `restart` in rolling-restart.ts and `sync` in project-sync.ts; an up's preparation
// in up-prepare.ts (engine checks in up-checks.ts), the swarm target in swarm/swarm-target.ts, `run` in
// project-oneoff.ts, `build` in build-command.ts, start of stopped replicas in manual-start.ts.

import type {
  BuildRequest,
  BuildResult,
  DownNothingResult,
  DownRequest,
  ProjectSummary,
  PullRequest,
  PullResult,
  ContainerImage,
  ContainersResult,
  KillRequest,
  KillResult,
  PortRequest,
  PortResult,
  ReplicaProcesses,
  ReplicaStatus,
  ScaleRequest,
  ServiceSelection,
  ServicesRequest,
  SyncRequest,
  SyncResult,
  UpRequest,
  RmRequest,
  RunRequest,
  RunResult,
} from './api/control.ts';
import type { DesiredProject } from './api/desired.ts';
import type { ContainerEngine, EngineEvent } from './api/engine.ts';
import { CmeshError } from './api/errors.ts';
import type { DaemonEvent } from './api/events.ts';
import { Labels, projectLabels } from './api/labels.ts';
import { buildProject } from './build-command.ts';
import { activeServices, assertServices, mergeScale, mergeStopped, mergeUp, replicaCounts } from './desired-merge.ts';
import type { EventBus } from './event-bus.ts';
import { Mutex } from './mutex.ts';
import { assumedResources, gatewaysInPlace, noopEligible, sameDesired } from './noop-up.ts';
import { pullProject } from './pull-command.ts';
import { MemoryPullTimes, type PullTimes } from './pull-state.ts';
import { ProjectLoops } from './project-loops.ts';
import { drainedStop, type ProjectMesh } from './project-mesh.ts';
import { manualContainers, startStopped } from './manual-start.ts';
import { removeStopped, runOneOff } from './project-oneoff.ts';
import { type SyncContext, syncReplicas } from './project-sync.ts';
import { type VerbContext, canonicalSignal, containerImages, killReplicas, killStops, publicPort, setPaused, topReplicas } from './project-verbs.ts';
import { UpChecks } from './up-checks.ts';
import { prepareLocalUp, type UpPrepareContext, upImages } from './up-prepare.ts';
import { removeFileGrants } from './file-grants.ts';
import { assertManager } from './swarm/deploy.ts';
import { assertProjectExists, projectHasObjects, projectSummaries, replicaRows } from './project-views.ts';
import { type RollingRestartContext, requestStopTimeoutSec, rollingRestart } from './rolling-restart.ts';
import type { DesiredStore } from './store.ts';
import type { SwarmEngine } from './api/swarm-engine.ts';
import { assertTargetSupports, type Target, upTarget } from './api/target.ts';
import { SwarmProjects } from './swarm/swarm-projects.ts';
import { requireSwarm, type SwarmVerbContext, swarmProjectDown, swarmProjectScale, swarmProjectUp } from './swarm/swarm-target.ts';
import { meshView } from './swarm/translate.ts';
import type { StreamLogsOptions } from './logs.ts';

export type { Reconciler } from './project-loops.ts';
export type { ProjectMesh } from './project-mesh.ts';

export interface ProjectManagerOptions {
  engine: ContainerEngine;
  store: DesiredStore;
  bus: EventBus;
  resyncMs?: number;
  /** Backoff of the engine event stream reconnect (tests shorten it). */
  reconnect?: { initialMs: number; maxMs: number };
  mesh?: ProjectMesh;
  /** Where secrets and configs are written for bind mounts (CMESH_HOME/files); without it, a grant is an error. */
  filesDir?: string;
  /** When cmesh last pulled each image (pull_policy daily/weekly/every_*); the daemon keeps it in CMESH_HOME. */
  pullTimes?: PullTimes;
  /** The same engine's Swarm side; without it `--target swarm` is refused. */
  swarm?: SwarmEngine;
  /** How often a swarm project's tasks are re-listed for the mesh (tests shorten it). */
  swarmObserveMs?: number;
}

const DEFAULT_WAIT_MS = 120_000;

export class ProjectManager {
  readonly #o: ProjectManagerOptions;
  readonly #desired = new Map<string, DesiredProject>();
  readonly #loops: ProjectLoops;
  // Mutexes outlive their project so an `up` queued behind a `down` still serializes with it.
  readonly #locks = new Map<string, Mutex>();
  readonly #prepare: UpPrepareContext;
  readonly #pullTimes: PullTimes;
  readonly #swarm: SwarmProjects | undefined;

  constructor(options: ProjectManagerOptions) {
    this.#o = options;
    this.#swarm =
      options.swarm &&
      new SwarmProjects({
        swarm: options.swarm,
        engine: options.engine,
        emit: (e) => options.bus.publish(e),
        ...(options.mesh ? { mesh: options.mesh } : {}),
        ...(options.swarmObserveMs === undefined ? {} : { observeMs: options.swarmObserveMs }),
      });
    this.#pullTimes = options.pullTimes ?? new MemoryPullTimes();
    this.#prepare = {
      engine: options.engine,
      emit: (e) => options.bus.publish(e),
      pullTimes: this.#pullTimes,
      filesDir: options.filesDir,
      checks: new UpChecks(options.engine, (e) => options.bus.publish(e)),
    };
    this.#loops = new ProjectLoops({
      engine: options.engine,
      emit: (e) => options.bus.publish(e),
      desired: (name) => this.#desired.get(name),
      ...(options.resyncMs === undefined ? {} : { resyncMs: options.resyncMs }),
      ...(options.reconnect ? { reconnect: options.reconnect } : {}),
      ...(options.mesh ? { mesh: options.mesh } : {}),
    });
  }

  get engine(): ContainerEngine {
    return this.#o.engine;
  }

  /** Loads persisted projects and starts their loops; their first pass adopts the containers already running. */
  async open(): Promise<void> {
    for (const [name, desired] of await this.#o.store.loadAll()) {
      this.#desired.set(name, desired);
      await this.#o.mesh?.adopt(desired.target === 'swarm' ? meshView(desired) : desired);
      // A swarm project's services are the engine's to run: the daemon only watches its tasks for the mesh.
      if (desired.target === 'swarm') this.#swarm?.observe(name, () => this.#desired.get(name));
      else this.#loops.ensure(name).wake('daemon start: adopt existing containers');
    }
    this.#loops.watch();
  }

  /** Stops every loop; containers keep running (the next daemon adopts them). */
  close(): Promise<void> {
    this.#swarm?.close();
    return this.#loops.close();
  }

  get projectCount(): number {
    return this.#desired.size;
  }

  desired(name: string): DesiredProject | undefined {
    return this.#desired.get(name);
  }

  /** Engine events for cmesh objects (logs follow uses them to pick up new replicas). */
  onEngineEvent(listener: (event: EngineEvent) => void): () => void {
    return this.#loops.onEngineEvent(listener);
  }

  async list(): Promise<ProjectSummary[]> {
    const containers = await this.#o.engine.listContainers({ labels: { [Labels.managed]: 'true' }, all: true });
    // A swarm project's replicas are its tasks (their containers carry no `managed` label).
    const swarmProjects = [...this.#desired.values()].filter((d) => d.target === 'swarm').map((d) => d.project.name);
    // An engine that left the swarm must not hide the local projects: its tasks then count as none.
    const tasks = await Promise.all(swarmProjects.map((p) => this.#swarm?.taskContainers(p, false).catch(() => []) ?? []));
    return projectSummaries([...containers, ...tasks.flat()], this.#desired);
  }

  /** Known = has desired state or still owns engine objects (e.g. state lost): such a project can be inspected and downed. */
  async requireKnown(name: string): Promise<void> {
    if (!this.#desired.has(name)) await assertProjectExists(this.#o.engine, name);
  }

  /** Where the project runs: its remembered target, local when the daemon does not know it. */
  targetOf(name: string): Target {
    return this.#desired.get(name)?.target ?? 'local';
  }

  /** Refuses a verb the project's target does not carry out (never runs it on the local engine instead). */
  assertVerb(name: string, verb: string): void {
    assertTargetSupports(name, this.targetOf(name), verb);
  }

  /** For `logs`: a swarm project's replicas are its tasks (on this node), re-listed while following. */
  logSources(name: string): Pick<StreamLogsOptions, 'replicas'> {
    if (this.targetOf(name) !== 'swarm') return {};
    const swarm = this.#requireSwarm();
    return { replicas: { list: (all) => swarm.taskContainers(name, all), relistMs: 1000 } };
  }

  async ps(name: string, all: boolean, services: string[] = []): Promise<ReplicaStatus[]> {
    await this.requireKnown(name);
    if (this.targetOf(name) === 'swarm') return this.#requireSwarm().ps(name, all, services);
    const supervised = this.#loops.find(name)?.status() ?? [];
    return replicaRows(await this.#o.engine.listContainers({ labels: projectLabels(name), all: true }), supervised, { all, services });
  }

  up(name: string, request: UpRequest, signal?: AbortSignal): Promise<unknown> {
    if (request.project?.name !== name) {
      throw new CmeshError('CMESH_E_USAGE', `request body is for project "${request.project?.name}", not "${name}"`);
    }
    return this.#lock(name).run(async () => {
      const prev = this.#desired.get(name);
      const target = upTarget(name, prev ? (prev.target ?? 'local') : undefined, request.target);
      const draft = { ...mergeUp(prev, request.project, request), ...(target === 'swarm' ? { target } : {}) };
      const services = activeServices(draft);
      if (target === 'swarm') return this.#swarmUp(draft, services, request, signal);
      const noop = prev && noopEligible(request, services) && sameDesired(prev, draft) ? await this.#noopUp(name, prev, services) : undefined;
      if (noop) {
        if (request.wait) await this.#waitReady(name, services, request.timeoutMs, signal);
        return noop;
      }
      // Before any pull or build: a key this engine would drop refuses the up at once (up-prepare.ts).
      const project = await prepareLocalUp(this.#prepare, request, services, signal);
      const desired = { ...draft, project };
      // Ports first: a taken port fails the up before any state is saved or container created.
      await this.#o.mesh?.publish(desired);
      await this.#commit(desired);
      const unstopped = (prev?.stopped ?? []).filter((s) => !desired.stopped.includes(s));
      if (unstopped.length > 0) await startStopped(this.#manual(name), unstopped);
      this.#publish({ type: 'project', project: name, action: 'up', services: replicaCounts(desired) });
      const reconcile = await this.#loops.ensure(name).reconcileNow();
      if (request.wait) await this.#waitReady(name, services, request.timeoutMs, signal);
      return { generation: desired.generation, reconcile, replicas: await this.ps(name, true) };
    });
  }

  /** The answer to an `up` that changes nothing, from one container list; undefined when a pass has work to do. */
  async #noopUp(name: string, prev: DesiredProject, services: string[]): Promise<unknown> {
    const loop = this.#loops.ensure(name);
    const containers = await this.#o.engine.listContainers({ labels: projectLabels(name), all: true });
    const reconcile = loop.noopResult(containers, assumedResources(prev));
    if (!reconcile || !gatewaysInPlace(prev, containers)) return undefined;
    // What an ordinary up announces, minus the work: engine gaps are named again, the event stream sees the up.
    await this.#prepare.checks.checkEngineGaps(prev.project, services);
    this.#publish({ type: 'project', project: name, action: 'up', services: replicaCounts(prev) });
    return { generation: prev.generation, reconcile, replicas: replicaRows(containers, loop.status(), { all: true, services: [] }) };
  }

  /**
   * Idempotent, like `docker compose down`: a project with neither desired state nor labelled objects answers
   * DownNothingResult instead of "not found". Without desired state, whatever carries the project's labels is removed.
   */
  async down(name: string, request: DownRequest): Promise<unknown> {
    return this.#lock(name).run(async () => {
      // Without desired state (lost home), swarm services carrying the project's labels still say where it ran.
      const target = this.#desired.has(name) ? this.targetOf(name) : (await this.#swarm?.hasProject(name)) ? 'swarm' : 'local';
      if (target === 'local' && !this.#desired.has(name) && !(await projectHasObjects(this.#o.engine, name, request.volumes))) {
        return { nothingToRemove: true } satisfies DownNothingResult;
      }
      // A swarm project stays known while the swarm cannot take its down (e.g. the engine left the swarm).
      if (target === 'swarm') await assertManager(this.#requireSwarm().swarmEngine);
      // Forget the desired state first so no wake-up in between recreates what down removes.
      this.#desired.delete(name);
      await this.#o.store.remove(name);
      if (target === 'swarm') {
        const removed = await swarmProjectDown(this.#swarmContext(), name);
        this.#publish({ type: 'project', project: name, action: 'down' });
        return removed;
      }
      const reconciler = this.#loops.ensure(name);
      try {
        // Listeners close first (in-flight requests finish on still-running replicas), then the containers go.
        await this.#o.mesh?.unpublish(name);
        const result = await reconciler.down({ volumes: request.volumes, removeOrphans: request.removeOrphans });
        if (this.#o.filesDir !== undefined) await removeFileGrants(this.#o.filesDir, name);
        this.#publish({ type: 'project', project: name, action: 'down' });
        return result;
      } finally {
        this.#loops.remove(name);
      }
    });
  }

  /** `up` on the swarm target (swarm/swarm-target.ts). */
  #swarmUp(draft: DesiredProject, services: string[], request: UpRequest, signal?: AbortSignal): Promise<unknown> {
    const context = {
      ...this.#swarmContext(),
      images: () => upImages(this.#prepare, request, services, signal),
      commit: (d: DesiredProject) => this.#commit(d),
      announce: (d: DesiredProject) => this.#publish({ type: 'project', project: d.project.name, action: 'up', services: replicaCounts(d) }),
      desired: (n: string) => this.#desired.get(n),
    };
    return swarmProjectUp(context, draft, services, request, signal);
  }

  #swarmContext(): SwarmVerbContext {
    return { swarm: this.#swarm, mesh: this.#o.mesh, waitMs: DEFAULT_WAIT_MS, ps: (n) => this.ps(n, true) };
  }

  #requireSwarm(): SwarmProjects {
    return requireSwarm(this.#swarm);
  }

  scale(name: string, request: ScaleRequest, signal?: AbortSignal): Promise<unknown> {
    return this.#lock(name).run(async () => {
      const desired = mergeScale(this.#requireDesired(name), request.services);
      await this.#commit(desired);
      this.#publish({ type: 'project', project: name, action: 'scaled', services: replicaCounts(desired) });
      if (desired.target === 'swarm') return swarmProjectScale(this.#swarmContext(), desired, request, signal);
      const reconcile = await this.#loops.ensure(name).reconcileNow();
      if (request.wait) await this.#waitReady(name, Object.keys(request.services), request.timeoutMs, signal);
      return { generation: desired.generation, reconcile, replicas: await this.ps(name, true) };
    });
  }

  /** Stop keeps the containers; the desired state remembers it so the loop does not restart them. */
  stop(name: string, request: ServicesRequest): Promise<unknown> {
    return this.#lock(name).run(async () => {
      const desired = mergeStopped(this.#requireDesired(name), request.services, true);
      await this.#commit(desired);
      const chosen = await manualContainers(this.#o.engine, name, request.services);
      await Promise.all(
        chosen.map((c) => drainedStop(this.#manual(name), c, request, () => this.#o.engine.stopContainer(c.id, requestStopTimeoutSec(request)))),
      );
      this.#publish({ type: 'project', project: name, action: 'stopped' });
      await this.#loops.ensure(name).reconcileNow();
      return { replicas: await this.ps(name, true) };
    });
  }

  start(name: string, request: ServicesRequest): Promise<unknown> {
    return this.#lock(name).run(async () => {
      const desired = mergeStopped(this.#requireDesired(name), request.services, false);
      await this.#commit(desired);
      await startStopped(this.#manual(name), request.services);
      this.#publish({ type: 'project', project: name, action: 'started' });
      await this.#loops.ensure(name).reconcileNow();
      return { replicas: await this.ps(name, true) };
    });
  }

  /** Rolling (rolling-restart.ts): one replica of a service at a time, services in parallel. */
  restart(name: string, request: ServicesRequest): Promise<unknown> {
    return this.#lock(name).run(async () => {
      const desired = this.#requireDesired(name);
      assertServices(desired.project, request.services);
      if (desired.target === 'swarm') return { replicas: await this.#requireSwarm().restart(desired, request.services, DEFAULT_WAIT_MS) };
      await rollingRestart(this.#manual(name), await manualContainers(this.#o.engine, name, request.services), request);
      await this.#loops.ensure(name).reconcileNow();
      return { replicas: await this.ps(name, true) };
    });
  }

  /** `cmesh build` (build-command.ts): builds without touching the running project (that is `up --build`). Not serialized with `up`. */
  build(name: string, request: BuildRequest, signal?: AbortSignal): Promise<Record<string, BuildResult>> {
    return buildProject({ engine: this.#o.engine, project: name, request, emit: (e) => this.#o.bus.publish(e), ...this.#withSignal(signal) });
  }

  /** `cmesh pull` (pull-command.ts): pulls without touching the running project. Not serialized with `up`. */
  pull(request: PullRequest, signal?: AbortSignal): Promise<PullResult> {
    return pullProject({ engine: this.#o.engine, request, emit: (e) => this.#o.bus.publish(e), times: this.#pullTimes, ...this.#withSignal(signal) });
  }

  /** Watch `sync` (project-sync.ts): files into every running replica, then (sync+restart) drained restarts. */
  sync(name: string, request: SyncRequest): Promise<SyncResult> {
    return this.#lock(name).run(async () => {
      assertServices(this.#requireDesired(name).project, [request.service]);
      return syncReplicas(this.#manual(name), request);
    });
  }

  /** `pause` / `unpause` (project-verbs.ts): the planner leaves paused replicas alone, the mesh routes around them. */
  pause(name: string, request: ServiceSelection, paused: boolean): Promise<ContainersResult> {
    return this.#lock(name).run(() => {
      assertServices(this.#requireDesired(name).project, request.services);
      return setPaused(this.#verbs(name), request.services, paused);
    });
  }

  /** `kill`: SIGKILL/SIGTERM are a user's stop (desired stopped first, so the supervisor does not heal); others are only sent. */
  kill(name: string, request: KillRequest): Promise<KillResult> {
    return this.#lock(name).run(async () => {
      const desired = this.#requireDesired(name);
      assertServices(desired.project, request.services);
      const signal = canonicalSignal(request.signal);
      if (killStops(signal)) await this.#commit(mergeStopped(desired, request.services, true));
      return killReplicas(this.#verbs(name), request, signal);
    });
  }

  async port(name: string, request: PortRequest): Promise<PortResult> {
    const desired = this.#requireDesired(name);
    assertServices(desired.project, [request.service]);
    return publicPort(this.#verbs(name), desired.project, request);
  }

  async top(name: string, request: ServiceSelection): Promise<ReplicaProcesses[]> {
    await this.#requireKnownServices(name, request.services);
    return topReplicas(this.#verbs(name), request.services);
  }

  async images(name: string, request: ServiceSelection): Promise<ContainerImage[]> {
    await this.#requireKnownServices(name, request.services);
    return containerImages(this.#verbs(name), request.services);
  }

  /** `cmesh run` (project-oneoff.ts): dependencies come up first, then the one-off is created. */
  run(name: string, request: RunRequest, signal?: AbortSignal): Promise<RunResult> {
    return runOneOff(
      {
        verbs: this.#verbs(name),
        up: (up) => this.up(name, up, signal),
        emit: (e) => this.#o.bus.publish(e),
        pullTimes: this.#pullTimes,
        filesDir: this.#o.filesDir,
      },
      request,
      signal,
    );
  }

  /** `cmesh rm`: `-s` is a `stop` first (the services stay desired stopped, so the loop does not recreate them). */
  async rm(name: string, request: RmRequest): Promise<ContainersResult> {
    await this.#requireKnownServices(name, request.services);
    if (request.stop && !request.dryRun && this.#desired.has(name)) await this.stop(name, { services: request.services });
    return this.#lock(name).run(() => removeStopped(this.#verbs(name), request));
  }

  /** What `exec`, the one-off attach and `cp` resolve their container with (project-oneoff.ts). */
  async interactive(name: string): Promise<VerbContext> {
    await this.requireKnown(name);
    return this.#verbs(name);
  }

  wake(name: string, reason: string): void {
    this.#loops.wake(name, reason);
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

  /** What the manager's own stops, restarts and syncs need: the engine, the mesh's drains, the project's loop. */
  #manual(name: string): RollingRestartContext & SyncContext {
    return {
      engine: this.#o.engine,
      emit: (e) => this.#o.bus.publish(e),
      mesh: this.#o.mesh,
      project: name,
      desired: () => this.#desired.get(name),
      reconcileNow: () => this.#loops.ensure(name).reconcileNow(),
      wake: (reason: string) => this.wake(name, reason),
    };
  }

  /** Read-only verbs also serve a project known only by its containers; named services are checked when we know them. */
  async #requireKnownServices(name: string, services: string[]): Promise<void> {
    await this.requireKnown(name);
    const desired = this.#desired.get(name);
    if (desired) assertServices(desired.project, services);
  }

  #verbs(name: string): VerbContext {
    return { engine: this.#o.engine, project: name, reconcileNow: () => this.#loops.ensure(name).reconcileNow() };
  }

  async #waitReady(name: string, services: string[], timeoutMs: number | undefined, signal?: AbortSignal): Promise<void> {
    await this.#loops.ensure(name).waitReady({
      services,
      timeoutMs: timeoutMs ?? DEFAULT_WAIT_MS,
      ...this.#withSignal(signal),
    });
  }

  #withSignal(signal: AbortSignal | undefined): { signal?: AbortSignal } {
    return signal ? { signal } : {};
  }

  #publish(e: Omit<Extract<DaemonEvent, { type: 'project' }>, 'time'>): void {
    this.#o.bus.publish({ time: Date.now(), ...e } as DaemonEvent);
  }
}
