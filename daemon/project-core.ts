// The project manager's core (projects.ts builds the verbs on it): desired state in memory and in the store, the
// per-project locks, the reconcile loops and the swarm watcher, the read-only views (list, ps, targets, log sources),
// and the contexts the verbs hand to their modules (manual stops and syncs, replica verbs, waits, events).

import type { ProjectSummary, ReplicaStatus } from './api/control.ts';
import type { DesiredProject } from './api/desired.ts';
import type { ContainerEngine, ContainerInfo, EngineEvent } from './api/engine.ts';
import { CmeshError } from './api/errors.ts';
import type { DaemonEvent } from './api/events.ts';
import { Labels, projectLabels } from './api/labels.ts';
import { assertServices } from './desired-merge.ts';
import type { EventBus } from './event-bus.ts';
import { Mutex } from './mutex.ts';
import { MemoryPullTimes, type PullTimes } from './pull-state.ts';
import { ProjectLoops } from './project-loops.ts';
import type { ProjectMesh } from './project-mesh.ts';
import type { SyncContext } from './project-sync.ts';
import type { VerbContext } from './project-verbs.ts';
import { UpChecks } from './up-checks.ts';
import type { UpPrepareContext } from './up-prepare.ts';
import { assertProjectExists, projectSummaries, replicaRows } from './project-views.ts';
import type { RollingRestartContext } from './rolling-restart.ts';
import type { DesiredStore } from './store.ts';
import type { SwarmEngine } from './api/swarm-engine.ts';
import { assertTargetSupports, type Target } from './api/target.ts';
import { SwarmProjects } from './swarm/swarm-projects.ts';
import { requireSwarm, type SwarmVerbContext } from './swarm/swarm-target.ts';
import { swarmVerbContext } from './swarm/swarm-verbs.ts';
import { meshView } from './swarm/translate.ts';
import type { StreamLogsOptions } from './logs.ts';

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

export const DEFAULT_WAIT_MS = 120_000;

export abstract class ProjectCore {
  protected readonly o: ProjectManagerOptions;
  protected readonly projects = new Map<string, DesiredProject>();
  protected readonly loops: ProjectLoops;
  // Mutexes outlive their project so an `up` queued behind a `down` still serializes with it.
  readonly #locks = new Map<string, Mutex>();
  protected readonly prepare: UpPrepareContext;
  protected readonly pullTimes: PullTimes;
  protected readonly swarm: SwarmProjects | undefined;

  constructor(options: ProjectManagerOptions) {
    this.o = options;
    this.swarm =
      options.swarm &&
      new SwarmProjects({
        swarm: options.swarm,
        engine: options.engine,
        emit: (e) => options.bus.publish(e),
        ...(options.mesh ? { mesh: options.mesh } : {}),
        ...(options.swarmObserveMs === undefined ? {} : { observeMs: options.swarmObserveMs }),
      });
    this.pullTimes = options.pullTimes ?? new MemoryPullTimes();
    this.prepare = {
      engine: options.engine,
      emit: (e) => options.bus.publish(e),
      pullTimes: this.pullTimes,
      filesDir: options.filesDir,
      checks: new UpChecks(options.engine, (e) => options.bus.publish(e)),
      startEarly: async (partial) => {
        await options.mesh?.publish(partial);
        await this.commit(partial);
        await this.loops.ensure(partial.project.name).reconcileNow();
      },
    };
    this.loops = new ProjectLoops({
      engine: options.engine,
      emit: (e) => options.bus.publish(e),
      desired: (name) => this.projects.get(name),
      ...(options.resyncMs === undefined ? {} : { resyncMs: options.resyncMs }),
      ...(options.reconnect ? { reconnect: options.reconnect } : {}),
      ...(options.mesh ? { mesh: options.mesh } : {}),
    });
  }

  get engine(): ContainerEngine {
    return this.o.engine;
  }

  /** Loads persisted projects and starts their loops; their first pass adopts the containers already running. */
  async open(): Promise<void> {
    for (const [name, desired] of await this.o.store.loadAll()) {
      this.projects.set(name, desired);
      await this.o.mesh?.adopt(desired.target === 'swarm' ? meshView(desired) : desired);
      // A swarm project's services are the engine's to run: the daemon only watches its tasks for the mesh.
      if (desired.target === 'swarm') this.swarm?.observe(name, () => this.projects.get(name));
      else this.loops.ensure(name).wake('daemon start: adopt existing containers');
    }
    this.loops.watch();
  }

  /** Stops every loop; containers keep running (the next daemon adopts them). */
  close(): Promise<void> {
    this.swarm?.close();
    return this.loops.close();
  }

  get projectCount(): number {
    return this.projects.size;
  }

  desired(name: string): DesiredProject | undefined {
    return this.projects.get(name);
  }

  /** Engine events for cmesh objects (logs follow uses them to pick up new replicas). */
  onEngineEvent(listener: (event: EngineEvent) => void): () => void {
    return this.loops.onEngineEvent(listener);
  }

  async list(): Promise<ProjectSummary[]> {
    const containers = await this.o.engine.listContainers({ labels: { [Labels.managed]: 'true' }, all: true });
    // A swarm project's replicas are its tasks (their containers carry no `managed` label).
    const swarmProjects = [...this.projects.values()].filter((d) => d.target === 'swarm').map((d) => d.project.name);
    // An engine that left the swarm must not hide the local projects: its tasks then count as none.
    const tasks = await Promise.all(swarmProjects.map((p) => this.swarm?.taskContainers(p, false).catch(() => []) ?? []));
    return projectSummaries([...containers, ...tasks.flat()], this.projects);
  }

  /** Known = has desired state or still owns engine objects (e.g. state lost): such a project can be inspected and downed. */
  async requireKnown(name: string): Promise<void> {
    if (!this.projects.has(name)) await assertProjectExists(this.o.engine, name);
  }

  /** Where the project runs: its remembered target, local when the daemon does not know it. */
  targetOf(name: string): Target {
    return this.projects.get(name)?.target ?? 'local';
  }

  /** Refuses a verb the project's target does not carry out (never runs it on the local engine instead). */
  assertVerb(name: string, verb: string): void {
    assertTargetSupports(name, this.targetOf(name), verb);
  }

  /** For `logs`: a swarm project's replicas are its tasks (on this node), re-listed while following. */
  logSources(name: string): Pick<StreamLogsOptions, 'replicas'> {
    if (this.targetOf(name) !== 'swarm') return {};
    const swarm = this.requireSwarm();
    return { replicas: { list: (all) => swarm.taskContainers(name, all), relistMs: 1000 } };
  }

  async ps(name: string, all: boolean, services: string[] = []): Promise<ReplicaStatus[]> {
    await this.requireKnown(name);
    if (this.targetOf(name) === 'swarm') return this.requireSwarm().ps(name, all, services);
    return this.rows(name, await this.o.engine.listContainers({ labels: projectLabels(name), all: true }), all, services);
  }

  /** `ps` rows of a local project from a container list already in hand, with its loop's restart counts. */
  protected rows(name: string, containers: ContainerInfo[], all = true, services: string[] = []): ReplicaStatus[] {
    return replicaRows(containers, this.loops.find(name)?.status() ?? [], { all, services });
  }

  protected swarmContext(): SwarmVerbContext {
    return { swarm: this.swarm, mesh: this.o.mesh, waitMs: DEFAULT_WAIT_MS, ps: (n) => this.ps(n, true) };
  }

  protected requireSwarm(): SwarmProjects {
    return requireSwarm(this.swarm);
  }

  wake(name: string, reason: string): void {
    this.loops.wake(name, reason);
  }

  protected lock(name: string): Mutex {
    const m = this.#locks.get(name) ?? new Mutex();
    this.#locks.set(name, m);
    return m;
  }

  protected requireDesired(name: string): DesiredProject {
    const d = this.projects.get(name);
    if (d) return d;
    throw new CmeshError('CMESH_E_PROJECT_NOT_FOUND', `project "${name}" is not up`, {
      hint: 'run `cmesh up` in the project directory first (`cmesh ls` lists known projects)',
      details: { project: name },
    });
  }

  protected async commit(desired: DesiredProject): Promise<void> {
    await this.o.store.save(desired);
    this.projects.set(desired.project.name, desired);
  }

  /** What the manager's own stops, restarts and syncs need: the engine, the mesh's drains, the project's loop. */
  protected manual(name: string): RollingRestartContext & SyncContext {
    return {
      engine: this.o.engine,
      emit: (e) => this.o.bus.publish(e),
      mesh: this.o.mesh,
      project: name,
      desired: () => this.projects.get(name),
      reconcileNow: () => this.loops.ensure(name).reconcileNow(),
      wake: (reason: string) => this.wake(name, reason),
    };
  }

  /** Read-only verbs also serve a project known only by its containers; named services are checked when we know them. */
  protected async requireKnownServices(name: string, services: string[]): Promise<void> {
    await this.requireKnown(name);
    const desired = this.projects.get(name);
    if (desired) assertServices(desired.project, services);
  }

  protected verbs(name: string): VerbContext {
    if (this.targetOf(name) === 'swarm') return swarmVerbContext(this.requireSwarm(), name, () => this.projects.get(name));
    return { engine: this.o.engine, project: name, reconcileNow: () => this.loops.ensure(name).reconcileNow() };
  }

  /** `up --wait`: resolves with the containers of the look that found them ready (the answer's rows need no new list). */
  protected waitReady(name: string, services: string[], timeoutMs: number | undefined, signal?: AbortSignal, seen?: ContainerInfo[]): Promise<ContainerInfo[]> {
    return this.loops.ensure(name).waitReady({
      services,
      timeoutMs: timeoutMs ?? DEFAULT_WAIT_MS,
      ...this.withSignal(signal),
      ...(seen ? { seen } : {}),
    });
  }

  protected withSignal(signal: AbortSignal | undefined): { signal?: AbortSignal } {
    return signal ? { signal } : {};
  }

  protected publish(e: Omit<Extract<DaemonEvent, { type: 'project' }>, 'time'>): void {
    this.o.bus.publish({ time: Date.now(), ...e } as DaemonEvent);
  }
}
