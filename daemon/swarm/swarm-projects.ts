// The project manager's swarm side: up/down/ps/scale for projects whose target is swarm, `--wait` on tasks, and one
// observer per project that feeds the tasks' host-mode ports into the mesh pools (the proxy keeps the published port).

import { setTimeout as sleep } from 'node:timers/promises';
import type { ReplicaStatus } from '../api/control.ts';
import type { DesiredProject } from '../api/desired.ts';
import type { ContainerEngine, ContainerInfo } from '../api/engine.ts';
import { CmeshError } from '../api/errors.ts';
import type { DaemonEvent } from '../api/events.ts';
import { Labels } from '../api/labels.ts';
import type { SwarmEngine } from '../api/swarm-engine.ts';
import type { ProjectMesh } from '../project-mesh.ts';
import { replicaRows } from '../project-views.ts';
import { SwarmEventFeed } from './swarm-event-feed.ts';
import { type SwarmDownResult, type SwarmUpResult, swarmDown, swarmProjectLabels, swarmReplicas, swarmRestart, swarmUp } from './deploy.ts';
import { type ListedTask, RemoteTaskEvents } from './remote-task-events.ts';
import { listedAsContainers, listProjectTasks, taskContainers } from './tasks.ts';
import { meshView } from './translate.ts';

export interface SwarmProjectsOptions {
  swarm: SwarmEngine;
  engine: ContainerEngine;
  emit(event: DaemonEvent): void;
  mesh?: ProjectMesh;
  /** How often a project's tasks are re-listed for the mesh (and --wait polls). */
  observeMs?: number;
}

export class SwarmProjects {
  readonly #o: SwarmProjectsOptions;
  readonly #observers = new Map<string, AbortController>();
  /** Task and service events of the projects deployed or observed here, as DaemonEvents (from the first such). */
  readonly #feed: SwarmEventFeed;
  readonly #announced = new Set<string>();
  /** Events of the tasks on other nodes, from the observer's listings (their engines stream them, not ours). */
  readonly #remote = new RemoteTaskEvents();
  /** This engine's node ID, asked once (it changes only when the engine leaves the swarm: a failed listing asks again). */
  #self: Promise<string> | undefined;

  constructor(options: SwarmProjectsOptions) {
    this.#o = options;
    this.#feed = new SwarmEventFeed({ swarm: options.swarm, emit: options.emit, wants: (project) => this.#announced.has(project) });
  }

  /** Announces a daemon event of a swarm project (stop/start, which the manager leaves to this side). */
  emit(event: DaemonEvent): void {
    this.#o.emit(event);
  }

  /** The engine the daemon talks to (a node of the swarm): task containers on this node. */
  get engine(): ContainerEngine {
    return this.#o.engine;
  }

  /** The project's current tasks (desired running) on this node: what the replica verbs can reach. */
  async localTasks(project: string): Promise<ContainerInfo[]> {
    const { nodeId } = await this.#o.swarm.swarmStatus();
    return taskContainers(this.#o.swarm, this.#o.engine, project, false, nodeId);
  }

  /** The engine's Swarm side itself (manager checks). */
  get swarmEngine(): SwarmEngine {
    return this.#o.swarm;
  }

  async up(desired: DesiredProject, services: string[]): Promise<SwarmUpResult> {
    const project = desired.project.name;
    // Subscribed before the deploy, so the first tasks' create/start are announced too (remote ones from a baseline).
    this.#announce(project);
    if (!this.#remote.has(project)) await this.#observeRemote(project, await listProjectTasks(this.#o.swarm, project));
    const result = await swarmUp(
      {
        swarm: this.#o.swarm,
        engine: this.#o.engine,
        warn: (w) => this.#o.emit({ type: 'warning', time: Date.now(), project, ...(w.service ? { service: w.service } : {}), key: w.key, message: w.message }),
      },
      desired,
      services,
    );
    await this.observeOnce(desired);
    return result;
  }

  /** Rolling restart (ForceUpdate): returns once every old task is replaced and the services are ready again. */
  async restart(desired: DesiredProject, services: string[], timeoutMs: number): Promise<ReplicaStatus[]> {
    const project = desired.project.name;
    const selected = services.length > 0 ? services : Object.keys(desired.project.services);
    const deadline = Date.now() + timeoutMs;
    const replaced = new Set(await swarmRestart(this.#o.swarm, project, selected));
    await this.waitReady(desired, selected, timeoutMs, undefined, replaced);
    // Swarm marks an old task for shutdown before its container has stopped (stop_grace_period): wait for that too,
    // so what `restart` returns is what runs.
    while ((await this.#tasks(project, true)).some((t) => replaced.has(t.id) && t.state === 'running')) {
      if (Date.now() > deadline) throw new CmeshError('CMESH_E_TIMEOUT', `old tasks of ${selected.join(', ')} still running after ${Math.round(timeoutMs / 1000)}s`);
      await sleep(this.#o.observeMs ?? 500);
    }
    await this.observeOnce(desired);
    return this.ps(project, false, []);
  }

  /**
   * Every selected service has its replica count of running tasks, healthy where the service has a healthcheck;
   * none of them one of the `replaced` containers (a restart waits for the new ones).
   */
  async waitReady(desired: DesiredProject, services: string[], timeoutMs: number, signal?: AbortSignal, replaced = new Set<string>()): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let missing: string[] = [];
    while (Date.now() < deadline) {
      signal?.throwIfAborted();
      const tasks = await this.#tasks(desired.project.name, false);
      missing = services.filter((name) => {
        const want = swarmReplicas(desired, name);
        const hasCheck = desired.project.services[name]?.healthcheck?.disable === false;
        const mine = tasks.filter((t) => t.labels[Labels.service] === name);
        if (mine.some((t) => replaced.has(t.id))) return true;
        const ready = mine.filter((t) => t.state === 'running' && (!hasCheck || t.health === 'healthy'));
        return ready.length < want || mine.length !== want;
      });
      if (missing.length === 0) return;
      await sleep(this.#o.observeMs ?? 500, undefined, signal ? { signal } : {});
    }
    throw new CmeshError('CMESH_E_TIMEOUT', `swarm services not ready within ${Math.round(timeoutMs / 1000)}s: ${missing.join(', ')}`, {
      hint: 'see `docker service ps <project>_<service> --no-trunc` for the tasks’ errors',
      details: { services: missing },
    });
  }

  /** True when this engine is a manager holding services of the project (so `down` knows it without desired state). */
  async hasProject(project: string): Promise<boolean> {
    const status = await this.#o.swarm.swarmStatus();
    if (status.state !== 'active' || !status.manager) return false;
    return (await this.#o.swarm.listServices(swarmProjectLabels(project))).length > 0;
  }

  /** `volumes`: also the project's named volumes on this node (`down -v`). */
  async down(project: string, volumes = false): Promise<SwarmDownResult> {
    this.stopObserving(project);
    this.#announced.add(project); // the tasks' stops during the down are still this project's events
    try {
      return await swarmDown(this.#o.swarm, project, volumes ? this.#o.engine : undefined);
    } finally {
      this.#announced.delete(project);
    }
  }

  async ps(project: string, all: boolean, services: string[]): Promise<ReplicaStatus[]> {
    return replicaRows(await this.#tasks(project, all), [], { all: true, services }).map((r) => ({ ...r, project }));
  }

  /** Feeds the pools once (after up, scale). */
  async observeOnce(desired: DesiredProject): Promise<void> {
    const listed = await listProjectTasks(this.#o.swarm, desired.project.name).catch((err: unknown) => {
      this.#self = undefined; // the engine may have left the swarm: a rejoined node has a new ID
      throw err;
    });
    this.#o.mesh?.observed(meshView(desired), await listedAsContainers(listed, this.#o.engine, false));
    await this.#observeRemote(desired.project.name, listed);
  }

  /** Announces what changed for the project's tasks on other nodes since the last listing (the first is a baseline). */
  async #observeRemote(project: string, listed: readonly ListedTask[]): Promise<void> {
    this.#self ??= this.#o.swarm.swarmStatus().then((s) => s.nodeId ?? '');
    const self = await this.#self.catch((err: unknown) => {
      this.#self = undefined;
      throw err;
    });
    const events = this.#remote.next(project, listed, self, Date.now());
    // Without its own node ID (not in an active swarm) every task would look remote: announce none.
    if (self !== '' && this.#announced.has(project)) for (const e of events) this.#o.emit(e);
  }

  /** Re-lists the project's tasks every observeMs until down or close, so replaced tasks join the pool by themselves. */
  observe(project: string, desired: () => DesiredProject | undefined): void {
    if (!this.#o.mesh || this.#observers.has(project)) return;
    const ac = new AbortController();
    this.#observers.set(project, ac);
    this.#announce(project);
    void (async () => {
      while (!ac.signal.aborted) {
        const d = desired();
        if (d) await this.observeOnce(d).catch(() => undefined); // the next pass re-lists; an engine hiccup is not fatal
        await sleep(this.#o.observeMs ?? 1000, undefined, { signal: ac.signal }).catch(() => undefined);
      }
    })();
  }

  stopObserving(project: string): void {
    this.#observers.get(project)?.abort();
    this.#observers.delete(project);
    this.#announced.delete(project);
    this.#remote.forget(project);
  }

  #announce(project: string): void {
    this.#announced.add(project);
    this.#feed.start();
  }

  close(): void {
    this.#feed.close();
    for (const project of [...this.#observers.keys()]) this.stopObserving(project);
  }

  /** The project's tasks as containers (every state with `all`), for logs. */
  taskContainers(project: string, all: boolean): Promise<ContainerInfo[]> {
    return this.#tasks(project, all);
  }

  #tasks(project: string, all: boolean): Promise<ContainerInfo[]> {
    return taskContainers(this.#o.swarm, this.#o.engine, project, all);
  }
}
