// ProjectReconciler: one level-triggered loop per project — observe → plan → execute, one pass at a time, forever.

import type { DesiredProject } from '../api/desired.ts';
import type { ContainerEngine, ContainerInfo } from '../api/engine.ts';
import { CmeshError } from '../api/errors.ts';
import type { DaemonEvent } from '../api/events.ts';
import type { ReplicaStatus } from '../api/control.ts';
import { projectLabels, replicaOf } from '../api/labels.ts';
import { type ExecuteOptions, execute, type NameReady } from './execute.ts';
import { allContainers, groupObserved, type ObservedProject, observe, observeImageIds } from './observe.ts';
import { actionCount, type DownOptions, type Plan, plan, planDown } from './plan.ts';
import { formatPlan } from './plan-format.ts';
import { projectNetworkNames, sharedOnProject } from './plan-gateway-shared.ts';
import { observedStatus } from './observed-status.ts';
import { PassScheduler } from './pass-scheduler.ts';
import type { WakeSource } from './nap.ts';
import type { GatewayContext } from './plan-gateway.ts';
import { type ReadyOptions, readyServices, waitReady } from './ready.ts';
import { RestartAnnouncements } from './restart-announcements.ts';
import { projectProbes, type StartProber } from './start-probe.ts';
import { replicaKey, restartRule, Supervisor } from './supervisor.ts';

/** A listed container as the engine reported it: the start probes' overlay (start-probe.ts) taken off again. */
export function engineView(c: ContainerInfo): ContainerInfo {
  const { engineHealth, ...listed } = c;
  return engineHealth === undefined ? c : { ...listed, health: engineHealth };
}

export interface ReconcilerOptions {
  engine: ContainerEngine;
  name: string;
  getDesired: () => DesiredProject | undefined;
  emit: (event: DaemonEvent) => void;
  signal: AbortSignal;
  /** Periodic full pass that catches whatever engine events missed (default 10 s). */
  resyncMs?: number;
  /** Injected clock for plans, backoff and events (tests). */
  now?: () => number;
  supervisor?: Supervisor;
  /** Tuning passed to execute() (gate timeout, poll interval, concurrency). */
  execute?: Pick<ExecuteOptions, 'concurrency' | 'gateTimeoutMs' | 'pollMs' | 'waitFor'>;
  /** Every full observation of the project's containers (the mesh's service table follows it). */
  onObserved?: (containers: ContainerInfo[]) => void;
  /** Drain hooks around every replica stop/remove (wired to the mesh by the daemon). */
  stopHooks?: ExecuteOptions['stopHooks'];
  /** Start-first rollouts' health gate and pool hand-over (wired to the mesh by the daemon). */
  rolloutHooks?: ExecuteOptions['rolloutHooks'];
  /** The project's engine events: they end depends_on and `--wait` naps early instead of waiting for the next poll. */
  wake?: WakeSource;
  /** When the daemon saw a container's current run start (daemon/container-starts.ts), for `up --wait`'s settling. */
  runningSince?: (id: string) => number | undefined;
  /** East-west: the gateway's image and socket directory for the planner (daemon/gateway-wiring.ts). */
  gatewayContext?: (desired: DesiredProject) => Promise<GatewayContext | undefined>;
  /**
   * East-west: the daemon's shared gateway as inspected now, if there is one; every pass and `down` look, in any mode,
   * so a project leaves its networks when it no longer uses it (daemon/gateway-shared.ts).
   */
  sharedGateway?: () => Promise<ContainerInfo | undefined>;
  /** East-west: waits until the gateway answers for these services by name (gates and `up --wait`). */
  nameReady?: NameReady;
}

export interface ReconcileResult {
  project: string;
  /** Desired generation the pass converged toward; undefined when there was no desired state. */
  generation?: number;
  actions: number;
  done: number;
  durationMs: number;
  /** Replica restarts the backoff still holds back, and when the loop wakes for the first. */
  deferred: number;
  wakeAt?: number;
  /** The plan as text (plan-format), for `up` output and debugging. */
  plan: string;
}

export class ProjectReconciler {
  readonly supervisor: Supervisor;
  readonly #o: ReconcilerOptions;
  readonly #now: () => number;
  readonly #passes: PassScheduler<ReconcileResult>;
  #observed: ObservedProject | undefined;
  #lastDesired: DesiredProject | undefined;
  /**
   * The daemon's shared gateway was seen off this project's networks by a pass with east-west off. Only this loop's
   * plans join it to them, and only with east-west on, so such passes need not look at it again (one engine call less
   * on every pass of a project that is not meshed).
   */
  #sharedOff = false;
  /** Deferred restarts already reported, so each gets one `restart-scheduled` however many passes it stays pending. */
  readonly #announced = new RestartAnnouncements();
  /**
   * service → the spec hash (and desired generation) whose rollout was rolled back. In memory on purpose: the loop must
   * not retry a bad version every pass, but a new `up` (new generation) or a daemon restart gives it one more try.
   */
  #failedRollouts = new Map<string, { specHash: string; generation: number }>();
  /** The engine with start probes on top (start-probe.ts): what every look at this project's containers goes through. */
  readonly #engine: ContainerEngine;
  readonly #wake: WakeSource;
  readonly #prober: StartProber;

  constructor(options: ReconcilerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    const probes = projectProbes({
      engine: options.engine,
      project: options.name,
      getDesired: options.getDesired,
      emit: options.emit,
      signal: options.signal,
      now: this.#now,
      ...(options.wake ? { wake: options.wake } : {}),
      onPass: () => this.wake('start probe passed'),
    });
    this.#engine = probes.engine;
    this.#wake = probes.wake;
    this.#prober = probes.prober;
    this.supervisor = options.supervisor ?? new Supervisor({ now: this.#now });
    this.#passes = new PassScheduler({
      signal: options.signal,
      resyncMs: options.resyncMs ?? 10_000,
      now: this.#now,
      pass: () => this.#pass(),
      wakeAt: (result) => result.wakeAt,
      onFailed: (error) => this.#o.emit({ type: 'reconcile', phase: 'failed', time: this.#now(), project: this.name, actions: 0, error: error.toJSON() }),
      aborted: () => this.#aborted(),
    });
  }

  get name(): string {
    return this.#o.name;
  }

  /** Coalescing: any number of wakes during a pass cause exactly one more pass. */
  wake(_reason: string): void {
    this.#passes.wake();
  }

  /** Runs (or joins) a pass and resolves after one that started after this call, so fresh desired state is applied. */
  reconcileNow(): Promise<ReconcileResult> {
    return this.#passes.passNow();
  }

  /** Resolves with the containers as the engine listed them (not the start probes' view) once the wait is over. */
  waitReady(options: ReadyOptions): Promise<ContainerInfo[]> {
    const desired = this.#o.getDesired();
    if (!desired) return Promise.reject(new CmeshError('CMESH_E_PROJECT_NOT_FOUND', `project "${this.name}" is not up`));
    // The first of the two waits to fail ends the other.
    const failed = new AbortController();
    const signal = AbortSignal.any([failed.signal, this.#o.signal, ...(options.signal ? [options.signal] : [])]);
    const guard = <T>(p: Promise<T>): Promise<T> =>
      p.catch((err: unknown) => {
        failed.abort(err);
        throw err;
      });
    const engineReady = waitReady(this.#engine, desired, (key, service, c) => {
      const spec = desired.project.services[service];
      return this.supervisor.decide(key, restartRule(spec), c);
    }, { wake: this.#wake, ...(this.#o.runningSince ? { runningSince: this.#o.runningSince } : {}), ...options, signal });
    // East-west: a meshed service is ready for its callers once its gateway answers for its name as well.
    const nameReady = this.#o.nameReady?.([...readyServices(desired, options.services)], { timeoutMs: options.timeoutMs, signal });
    return Promise.all([guard(engineReady), ...(nameReady ? [guard(nameReady)] : [])]).then(([containers]) => containers!.map(engineView));
  }

  /** One list of the project's containers as waitReady sees them (start probes on top): a no-op `up`'s one look. */
  look(): Promise<ContainerInfo[]> {
    return this.#engine.listContainers({ labels: projectLabels(this.name), all: true });
  }

  /**
   * For a no-op `up` (daemon/noop-up.ts): the result of a pass that would do nothing, judged from one container list
   * with the project's networks and volumes assumed present; undefined when a pass has something to do.
   */
  noopResult(containers: ContainerInfo[], resources: Pick<ObservedProject, 'networks' | 'volumes'>): ReconcileResult | undefined {
    const desired = this.#o.getDesired();
    if (!desired) return undefined;
    const started = this.#now();
    const names = Object.keys(desired.project.services);
    const observed = groupObserved(this.name, containers, names, resources.networks, resources.volumes);
    const failedRollouts: Record<string, string> = {};
    for (const [service, f] of this.#failedRollouts) if (f.generation === desired.generation) failedRollouts[service] = f.specHash;
    const p = plan(desired, observed, { now: started, supervisor: this.supervisor.view(), imageIds: {}, removeOrphans: false, failedRollouts });
    if (actionCount(p) > 0 || p.deferred.length > 0) return undefined;
    return { project: this.name, generation: p.generation, actions: 0, done: 0, durationMs: this.#now() - started, deferred: 0, plan: formatPlan(p) };
  }

  /** Replicas as last observed, with cmesh's restart count added to the engine's. */
  status(): ReplicaStatus[] {
    return observedStatus(this.name, this.#observed, this.supervisor);
  }

  /**
   * Tears the project down in reverse dependency order. The caller clears the desired state first: a pass after this
   * converges toward whatever getDesired() returns, and would bring a still-desired project straight back.
   */
  down(options: DownOptions): Promise<ReconcileResult> {
    return this.#passes.exclusive(async () => {
      const started = this.#now();
      const desired = this.#o.getDesired() ?? this.#lastDesired;
      const [observed, shared] = await Promise.all([observe(this.#engine, this.name, Object.keys(desired?.project.services ?? {})), this.#shared()]);
      if (shared) observed.shared = shared;
      const result = await this.#run(planDown(desired, observed, options, started), started);
      this.#observed = undefined;
      this.#announced.clear();
      return result;
    });
  }

  async #pass(): Promise<ReconcileResult> {
    const started = this.#now();
    const desired = this.#o.getDesired();
    if (!desired) return { project: this.name, actions: 0, done: 0, durationMs: 0, deferred: 0, plan: '' };
    this.#lastDesired = desired;
    const engine = this.#engine;
    const names = Object.keys(desired.project.services);
    // The gateway's context needs no observation: looked up beside it, not after it (it is on every meshed pass's path).
    const gatewayContext = desired.project.eastWest ? this.#o.gatewayContext?.(desired) : undefined;
    const meshed = desired.project.eastWest === true;
    const lookShared = meshed || !this.#sharedOff ? this.#shared() : Promise.resolve(undefined);
    const [observed, imageIds, shared] = await Promise.all([observe(engine, this.name, names), observeImageIds(engine, desired.project), lookShared]);
    if (shared) observed.shared = shared;
    this.#sharedOff = !meshed && sharedOnProject(projectNetworkNames(desired.project), shared).length === 0;
    this.#observed = observed;
    this.#prober.prune(allContainers(observed));
    this.#o.onObserved?.(allContainers(observed));
    for (const c of allContainers(observed)) {
      const service = c.labels['dev.cmesh.service'];
      const replica = replicaOf(c.labels);
      const windowMs = service ? desired.project.services[service]?.restartWindowMs : undefined;
      if (c.state === 'running' && service && replica) this.supervisor.observeRunning(replicaKey(service, replica), c.startedAt, windowMs);
    }
    const failedRollouts: Record<string, string> = {};
    for (const [service, f] of this.#failedRollouts) if (f.generation === desired.generation) failedRollouts[service] = f.specHash;
    const gateway = await gatewayContext;
    const p = plan(desired, observed, {
      now: started,
      supervisor: this.supervisor.view(),
      imageIds,
      removeOrphans: false,
      failedRollouts,
      ...(gateway ? { gateway } : {}),
    });
    const result = await this.#run(p, started, gateway);
    // status() should show what the pass produced, not what it started from.
    if (result.done > 0) {
      this.#observed = await observe(engine, this.name, names);
      this.#o.onObserved?.(allContainers(this.#observed));
    }
    return result;
  }

  async #run(p: Plan, started: number, gateway?: GatewayContext): Promise<ReconcileResult> {
    const gatewayImage = gateway?.imageReady;
    const actions = actionCount(p);
    const base = { time: started, project: this.name, type: 'reconcile' as const };
    if (actions > 0) this.#o.emit({ ...base, phase: 'start', actions });
    const { done } = await execute(p, this.#engine, this.#o.emit, {
      ...this.#o.execute,
      wake: this.#wake,
      signal: this.#o.signal,
      now: this.#now,
      onRestart: (service, replica) => this.supervisor.recordRestart(replicaKey(service, replica)),
      onReplaced: (service, replica) => this.supervisor.forget(replicaKey(service, replica)),
      ...(this.#o.stopHooks ? { stopHooks: this.#o.stopHooks } : {}),
      ...(this.#o.rolloutHooks ? { rolloutHooks: this.#o.rolloutHooks } : {}),
      ...(this.#o.nameReady ? { nameReady: this.#o.nameReady } : {}),
      ...(gatewayImage ? { gatewayImage } : {}),
      ...(gateway?.shared ? { sharedGateway: gateway.shared } : {}),
      ...(gateway?.beforeCreate ? { beforeGatewayCreate: gateway.beforeCreate } : {}),
      ...(gateway?.rollout ? { gatewayRollout: gateway.rollout } : {}),
      onRolledBack: (service, specHash) => this.#failedRollouts.set(service, { specHash, generation: p.generation }),
    });
    this.#announce(p);
    const durationMs = this.#now() - started;
    if (actions > 0) this.#o.emit({ ...base, time: this.#now(), phase: 'done', actions, durationMs });
    const result: ReconcileResult = { project: this.name, generation: p.generation, actions, done, durationMs, deferred: p.deferred.length, plan: formatPlan(p) };
    if (p.wakeAt !== undefined) result.wakeAt = p.wakeAt;
    return result;
  }

  /** The daemon's shared gateway as the engine has it (east-west, daemon/gateway-shared.ts); none without one. */
  #shared(): Promise<ContainerInfo | undefined> {
    return this.#o.sharedGateway?.() ?? Promise.resolve(undefined);
  }

  #announce(p: Plan): void {
    for (const d of this.#announced.fresh(p)) {
      this.#o.emit({
        type: 'restart-scheduled',
        time: this.#now(),
        project: this.name,
        service: d.target.service,
        replica: d.target.replica,
        attempt: d.attempt,
        delayMs: d.delayMs,
        reason: d.reason,
      });
    }
  }

  #aborted(): CmeshError {
    return new CmeshError('CMESH_E_ENGINE', `reconciler for ${this.name} was stopped`, { cause: this.#o.signal.reason });
  }
}
