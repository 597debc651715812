// Project manager: the verbs (up, down, scale, stop, start, restart, build, pull, sync, and the replica and one-off
// verbs), each serialized per project. Desired state, locks and read-only views live in project-core.ts, which this
// class extends; loops and engine events in project-loops.ts, the mesh port and its drains in project-mesh.ts,
// `restart` in rolling-restart.ts and `sync` in project-sync.ts; an up's preparation in up-prepare.ts (engine checks in
// up-checks.ts), the swarm target in swarm/swarm-target.ts, `run` in project-oneoff.ts, `build` in build-command.ts,
// start of stopped replicas in manual-start.ts.

import type {
  BuildRequest,
  BuildResult,
  DownNothingResult,
  DownRequest,
  PullRequest,
  PullResult,
  ContainerImage,
  ContainersResult,
  KillRequest,
  KillResult,
  PortRequest,
  PortResult,
  ReplicaProcesses,
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
import { CmeshError } from './api/errors.ts';
import type { ContainerInfo } from './api/engine.ts';
import { buildProject } from './build-command.ts';
import { activeServices, assertServices, mergeScale, mergeStopped, mergeUp, replicaCounts } from './desired-merge.ts';
import { assumedResources, gatewaysInPlace, noopEligible, sameDesired } from './noop-up.ts';
import { pullProject } from './pull-command.ts';
import { drainedStop } from './project-mesh.ts';
import { manualContainers, startStopped } from './manual-start.ts';
import { removeStopped, runOneOff } from './project-oneoff.ts';
import { syncReplicas } from './project-sync.ts';
import {
  type VerbContext,
  canonicalSignal,
  containerImages,
  killReplicas,
  killStops,
  publicPort,
  setPaused,
  topReplicas,
} from './project-verbs.ts';
import { prepareLocalUp, upImages } from './up-prepare.ts';
import { removeFileGrants } from './file-grants.ts';
import { assertManager } from './swarm/deploy.ts';
import { projectHasObjects, replicaRows } from './project-views.ts';
import { requestStopTimeoutSec, rollingRestart } from './rolling-restart.ts';
import { upTarget } from './api/target.ts';
import { engineView } from './reconcile/loop.ts';
import { swarmProjectDown, swarmProjectScale, swarmProjectUp } from './swarm/swarm-target.ts';
import { swarmRestartVerb, swarmStopStart } from './swarm/swarm-verbs.ts';
import { DEFAULT_WAIT_MS, ProjectCore } from './project-core.ts';

export type { ProjectManagerOptions } from './project-core.ts';
export type { Reconciler } from './project-loops.ts';
export type { ProjectMesh } from './project-mesh.ts';

export class ProjectManager extends ProjectCore {
  up(name: string, request: UpRequest, signal?: AbortSignal): Promise<unknown> {
    if (request.project?.name !== name) {
      throw new CmeshError('CMESH_E_USAGE', `request body is for project "${request.project?.name}", not "${name}"`);
    }
    return this.lock(name).run(async () => {
      const prev = this.projects.get(name);
      const target = upTarget(name, prev ? (prev.target ?? 'local') : undefined, request.target);
      const draft = { ...mergeUp(prev, request.project, request), ...(target === 'swarm' ? { target } : {}) };
      const services = activeServices(draft);
      if (target === 'swarm') return this.#swarmUp(draft, services, request, signal);
      const noop = prev && noopEligible(request, services) && sameDesired(prev, draft) ? await this.#noopUp(name, prev, services) : undefined;
      if (noop) {
        // The no-op's list is the wait's first look: a project that is ready answers from that one list.
        if (request.wait) await this.waitReady(name, services, request.timeoutMs, signal, noop.seen);
        return noop.answer;
      }
      // Engine gaps refuse the up before any pull or build; what needs no image being built starts meanwhile (up-prepare.ts).
      const project = await prepareLocalUp(this.prepare, request, services, signal, draft);
      const desired = { ...draft, project };
      // Ports first: a taken port fails the up before any state is saved or container created.
      await this.o.mesh?.publish(desired);
      await this.commit(desired);
      const unstopped = (prev?.stopped ?? []).filter((s) => !desired.stopped.includes(s));
      if (unstopped.length > 0) await startStopped(this.manual(name), unstopped);
      this.publish({ type: 'project', project: name, action: 'up', services: replicaCounts(desired) });
      const reconcile = await this.loops.ensure(name).reconcileNow();
      // With --wait, the list that proved the replicas ready is the answer's: no second list right after it.
      const ready = request.wait ? await this.waitReady(name, services, request.timeoutMs, signal) : undefined;
      return { generation: desired.generation, reconcile, replicas: ready ? this.rows(name, ready) : await this.ps(name, true) };
    });
  }

  /** A no-op `up`'s answer from one container list (`seen`: as waitReady sees it); undefined when a pass has work to do. */
  async #noopUp(name: string, prev: DesiredProject, services: string[]): Promise<{ answer: unknown; seen: ContainerInfo[] } | undefined> {
    const loop = this.loops.ensure(name);
    const seen = await loop.look();
    const containers = seen.map(engineView);
    const reconcile = loop.noopResult(containers, assumedResources(prev));
    if (!reconcile || !gatewaysInPlace(prev, containers)) return undefined;
    // What an ordinary up announces, minus the work: engine gaps are named again, the event stream sees the up.
    await this.prepare.checks.checkEngineGaps(prev.project, services);
    this.publish({ type: 'project', project: name, action: 'up', services: replicaCounts(prev) });
    return { answer: { generation: prev.generation, reconcile, replicas: replicaRows(containers, loop.status(), { all: true, services: [] }) }, seen };
  }

  /**
   * Idempotent, like `docker compose down`: a project with neither desired state nor labelled objects answers
   * DownNothingResult instead of "not found". Without desired state, whatever carries the project's labels is removed.
   */
  async down(name: string, request: DownRequest): Promise<unknown> {
    return this.lock(name).run(async () => {
      // Without desired state (lost home), swarm services carrying the project's labels still say where it ran.
      const target = this.projects.has(name) ? this.targetOf(name) : (await this.swarm?.hasProject(name)) ? 'swarm' : 'local';
      if (target === 'local' && !this.projects.has(name) && !(await projectHasObjects(this.o.engine, name, request.volumes))) {
        return { nothingToRemove: true } satisfies DownNothingResult;
      }
      // A swarm project stays known while the swarm cannot take its down (e.g. the engine left the swarm).
      if (target === 'swarm') await assertManager(this.requireSwarm().swarmEngine);
      // Forget the desired state first so no wake-up in between recreates what down removes.
      this.projects.delete(name);
      await this.o.store.remove(name);
      if (target === 'swarm') {
        const removed = await swarmProjectDown(this.swarmContext(), name, request.volumes);
        this.publish({ type: 'project', project: name, action: 'down' });
        return removed;
      }
      const reconciler = this.loops.ensure(name);
      try {
        // Listeners close first (in-flight requests finish on still-running replicas), then the containers go.
        await this.o.mesh?.unpublish(name);
        const result = await reconciler.down({ volumes: request.volumes, removeOrphans: request.removeOrphans });
        if (this.o.filesDir !== undefined) await removeFileGrants(this.o.filesDir, name);
        this.publish({ type: 'project', project: name, action: 'down' });
        return result;
      } finally {
        this.loops.remove(name);
      }
    });
  }

  /** `up` on the swarm target (swarm/swarm-target.ts). */
  #swarmUp(draft: DesiredProject, services: string[], request: UpRequest, signal?: AbortSignal): Promise<unknown> {
    const context = {
      ...this.swarmContext(),
      images: () => upImages(this.prepare, request, services, signal),
      commit: (d: DesiredProject) => this.commit(d),
      announce: (d: DesiredProject) => this.publish({ type: 'project', project: d.project.name, action: 'up', services: replicaCounts(d) }),
      desired: (n: string) => this.projects.get(n),
    };
    return swarmProjectUp(context, draft, services, request, signal);
  }

  scale(name: string, request: ScaleRequest, signal?: AbortSignal): Promise<unknown> {
    return this.lock(name).run(async () => {
      const desired = mergeScale(this.requireDesired(name), request.services);
      await this.commit(desired);
      this.publish({ type: 'project', project: name, action: 'scaled', services: replicaCounts(desired) });
      if (desired.target === 'swarm') return swarmProjectScale(this.swarmContext(), desired, request, signal);
      const reconcile = await this.loops.ensure(name).reconcileNow();
      const ready = request.wait ? await this.waitReady(name, Object.keys(request.services), request.timeoutMs, signal) : undefined;
      return { generation: desired.generation, reconcile, replicas: ready ? this.rows(name, ready) : await this.ps(name, true) };
    });
  }

  /** Stop keeps the containers; the desired state remembers it so the loop does not restart them. */
  stop(name: string, request: ServicesRequest): Promise<unknown> {
    return this.lock(name).run(async () => {
      const desired = mergeStopped(this.requireDesired(name), request.services, true);
      if (desired.target === 'swarm') return swarmStopStart(this.requireSwarm(), desired, request, { verb: 'stop', waitMs: DEFAULT_WAIT_MS, commit: (d) => this.commit(d) });
      await this.commit(desired);
      const chosen = await manualContainers(this.o.engine, name, request.services);
      await Promise.all(
        chosen.map((c) => drainedStop(this.manual(name), c, request, () => this.o.engine.stopContainer(c.id, requestStopTimeoutSec(request)))),
      );
      this.publish({ type: 'project', project: name, action: 'stopped' });
      await this.loops.ensure(name).reconcileNow();
      return { replicas: await this.ps(name, true) };
    });
  }

  start(name: string, request: ServicesRequest): Promise<unknown> {
    return this.lock(name).run(async () => {
      const desired = mergeStopped(this.requireDesired(name), request.services, false);
      if (desired.target === 'swarm') return swarmStopStart(this.requireSwarm(), desired, request, { verb: 'start', waitMs: DEFAULT_WAIT_MS, commit: (d) => this.commit(d) });
      await this.commit(desired);
      await startStopped(this.manual(name), request.services);
      this.publish({ type: 'project', project: name, action: 'started' });
      await this.loops.ensure(name).reconcileNow();
      return { replicas: await this.ps(name, true) };
    });
  }

  /** Rolling (rolling-restart.ts): one replica of a service at a time, services in parallel. */
  restart(name: string, request: ServicesRequest): Promise<unknown> {
    return this.lock(name).run(async () => {
      const desired = this.requireDesired(name);
      assertServices(desired.project, request.services);
      if (desired.target === 'swarm') return swarmRestartVerb(this.requireSwarm(), desired, request, DEFAULT_WAIT_MS);
      await rollingRestart(this.manual(name), await manualContainers(this.o.engine, name, request.services), request);
      await this.loops.ensure(name).reconcileNow();
      return { replicas: await this.ps(name, true) };
    });
  }

  /** `cmesh build` (build-command.ts): builds without touching the running project (that is `up --build`). Not serialized with `up`. */
  build(name: string, request: BuildRequest, signal?: AbortSignal): Promise<Record<string, BuildResult>> {
    return buildProject({ engine: this.o.engine, project: name, request, emit: (e) => this.o.bus.publish(e), ...this.withSignal(signal) });
  }

  /** `cmesh pull` (pull-command.ts): pulls without touching the running project. Not serialized with `up`. */
  pull(request: PullRequest, signal?: AbortSignal): Promise<PullResult> {
    return pullProject({ engine: this.o.engine, request, emit: (e) => this.o.bus.publish(e), times: this.pullTimes, ...this.withSignal(signal) });
  }

  /** Watch `sync` (project-sync.ts): files into every running replica, then (sync+restart) drained restarts. */
  sync(name: string, request: SyncRequest): Promise<SyncResult> {
    return this.lock(name).run(async () => {
      assertServices(this.requireDesired(name).project, [request.service]);
      return syncReplicas(this.manual(name), request);
    });
  }

  /** `pause` / `unpause` (project-verbs.ts): the planner leaves paused replicas alone, the mesh routes around them. */
  pause(name: string, request: ServiceSelection, paused: boolean): Promise<ContainersResult> {
    return this.lock(name).run(() => {
      assertServices(this.requireDesired(name).project, request.services);
      return setPaused(this.verbs(name), request.services, paused);
    });
  }

  /** `kill`: SIGKILL/SIGTERM are a user's stop (desired stopped first, so the supervisor does not heal); others are only sent. */
  kill(name: string, request: KillRequest): Promise<KillResult> {
    return this.lock(name).run(async () => {
      const desired = this.requireDesired(name);
      assertServices(desired.project, request.services);
      const signal = canonicalSignal(request.signal);
      if (killStops(signal) && desired.target !== 'swarm') await this.commit(mergeStopped(desired, request.services, true));
      return killReplicas(this.verbs(name), request, signal);
    });
  }

  async port(name: string, request: PortRequest): Promise<PortResult> {
    const desired = this.requireDesired(name);
    assertServices(desired.project, [request.service]);
    return publicPort(this.verbs(name), desired.project, request, (m) => this.o.mesh?.publishedPort?.(name, m) ?? m.published);
  }

  async top(name: string, request: ServiceSelection): Promise<ReplicaProcesses[]> {
    await this.requireKnownServices(name, request.services);
    return topReplicas(this.verbs(name), request.services);
  }

  async images(name: string, request: ServiceSelection): Promise<ContainerImage[]> {
    await this.requireKnownServices(name, request.services);
    return containerImages(this.verbs(name), request.services);
  }

  /** `cmesh run` (project-oneoff.ts): dependencies come up first, then the one-off is created. */
  run(name: string, request: RunRequest, signal?: AbortSignal): Promise<RunResult> {
    return runOneOff(
      {
        verbs: this.verbs(name),
        up: (up) => this.up(name, up, signal),
        emit: (e) => this.o.bus.publish(e),
        pullTimes: this.pullTimes,
        filesDir: this.o.filesDir,
      },
      request,
      signal,
    );
  }

  /** `cmesh rm`: `-s` is a `stop` first (the services stay desired stopped, so the loop does not recreate them). */
  async rm(name: string, request: RmRequest): Promise<ContainersResult> {
    await this.requireKnownServices(name, request.services);
    if (request.stop && !request.dryRun && this.projects.has(name)) await this.stop(name, { services: request.services });
    return this.lock(name).run(() => removeStopped(this.verbs(name), request));
  }

  /** What `exec`, the one-off attach and `cp` resolve their container with (project-oneoff.ts). */
  async interactive(name: string): Promise<VerbContext> {
    await this.requireKnown(name);
    return this.verbs(name);
  }
}
