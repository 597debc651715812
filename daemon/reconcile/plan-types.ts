// The Plan data model: ordered stages of actions that execute() runs without making a single decision of its own.

import type { ContainerCreateSpec, NetworkCreateSpec, VolumeCreateSpec } from '../api/engine.ts';
import type { DependsCondition, LifecycleHook } from '../api/project.ts';
import type { SupervisorView } from './supervisor.ts';

/** A service's hooks as plan() hands them to execute(); only services that have some. */
export interface ServiceHooks {
  postStart?: LifecycleHook[];
  preStop?: LifecycleHook[];
}

/** An existing container an action works on. */
export interface ContainerRef {
  id: string;
  name: string;
  service: string;
  replica: number;
}

/**
 * How a container is replaced by a `recreate`: stop-first (Compose semantics: a short gap per replica). Proxied services
 * with running replicas get a `rollout` action instead (start-first, gated on health, with rollback); a running
 * east-west gateway is recreated start-first (execute-gateway-rollout.ts: `next`, gated on its `serving` report).
 */
export type RecreateStrategy = 'stop-first' | 'start-first';

/** What a start-first gateway recreate adds: the new container's temporary name and what is left of an earlier try. */
export interface GatewayReplacement {
  /** Temporary name of the new gateway beside the old one (`<canonical>-next`); renamed once the old one is gone. */
  next: string;
  /** How long the new gateway has to report serving its services before it is given up (the old one serves on). */
  timeoutMs: number;
  /** How long the old gateway may drain (in-flight requests, TCP streams) before it is disconnected and removed. */
  drainMs: number;
  /** A pending new gateway of an interrupted replacement: running with the wanted spec it is gated on, not remade. */
  adopt?: ContainerRef;
  /** One that is not (stopped, another spec): removed first. */
  stale?: ContainerRef;
}

/** One replica of a start-first rollout: `next` (temporary name) is started beside `target`, then replaces it. */
export interface RolloutStep {
  target: ContainerRef;
  /** Create spec of the new container: temporary name, `dev.cmesh.rollout=next`, the new spec hash. */
  next: ContainerCreateSpec;
  /** The canonical name `next` is renamed to once `target` is gone. */
  canonicalName: string;
  /** A pending new container of this replica left by an interrupted rollout: removed before `next` is created. */
  stale?: ContainerRef;
}

export type Action =
  | { kind: 'ensure-network'; name: string; spec: NetworkCreateSpec }
  | { kind: 'ensure-volume'; name: string; spec: VolumeCreateSpec }
  /** Create the replica's container (adopting a same-named one of ours on 409), then start it when `start`. */
  | { kind: 'create'; service: string; replica: number; specHash: string; spec: ContainerCreateSpec; start: boolean }
  | { kind: 'start'; target: ContainerRef; reason: string }
  | { kind: 'stop'; target: ContainerRef; timeoutSec: number; reason: string }
  /** Stop first when `stopTimeoutSec` is set (the container runs), then remove. */
  | { kind: 'remove'; target: ContainerRef; stopTimeoutSec?: number; reason: string }
  | {
      kind: 'recreate';
      target: ContainerRef;
      strategy: RecreateStrategy;
      stopTimeoutSec: number;
      specHash: string;
      spec: ContainerCreateSpec;
      reason: string;
      /** start-first only (gateways). */
      replacement?: GatewayReplacement;
    }
  /**
   * Start-first rolling update of a proxied service, `maxSurge` replicas at a time: start the new container, wait until
   * the proxy finds it healthy (at most `timeoutMs`), drain and remove the old one, rename the new one. A new container
   * that exits or never becomes healthy is removed, the rest of the rollout is abandoned and the old replicas serve on.
   */
  | {
      kind: 'rollout';
      service: string;
      specHash: string;
      maxSurge: number;
      timeoutMs: number;
      stopTimeoutSec: number;
      steps: RolloutStep[];
      reason: string;
    }
  /** An interrupted rollout's new container whose old replica is already gone: rename it to the canonical name. */
  | { kind: 'promote'; target: ContainerRef; name: string; reason: string }
  /** A supervised restart whose backoff has elapsed; `stopTimeoutSec` is set when it still runs (unhealthy). */
  | { kind: 'restart'; target: ContainerRef; attempt: number; notBefore: number; stopTimeoutSec?: number; reason: string }
  | { kind: 'remove-network'; name: string }
  | { kind: 'remove-volume'; name: string }
  /** A running gateway joins a network with these aliases, or leaves one: the container and its addresses stay. */
  | {
      kind: 'connect';
      target: ContainerRef;
      network: string;
      aliases: string[];
      reason: string;
      /** The daemon's shared gateway: the join waits until it runs (ExecuteOptions.sharedGateway gives its id). */
      shared?: true;
    }
  | { kind: 'disconnect'; target: ContainerRef; network: string; reason: string };

export type ActionKind = Action['kind'];

/** Before a stage runs, `service` must reach `condition` (Compose depends_on) on `replicas` replicas. */
export interface WaitGate {
  service: string;
  condition: DependsCondition;
  replicas: number;
  /** The dependents in this stage that asked for it (for messages). */
  for: string[];
  /**
   * The dependency is meshed: callers reach it by name through the east-west gateway, so the gate also waits until
   * the gateway listens on its ports (a dependent that calls it at once must not be refused).
   */
  byName?: true;
}

export interface Stage {
  /** The service of this stage, the services of a dependency level (down), or `setup` / `gateway` / `teardown`. */
  name: string;
  services: string[];
  waits: WaitGate[];
  actions: Action[];
  /**
   * Indexes of the earlier stages this one waits for. Unset: every earlier stage (a barrier, as project-wide stages and
   * down's levels are). An `up` service's stage follows only the project-wide stages and its dependencies' stages, so
   * independent branches of the depends_on graph are created, started and gated concurrently.
   */
  after?: number[];
}

/** A restart the backoff does not allow yet; the loop wakes itself at `notBefore`. */
export interface DeferredRestart {
  target: ContainerRef;
  attempt: number;
  delayMs: number;
  notBefore: number;
  reason: string;
}

export interface Plan {
  kind: 'up' | 'down';
  project: string;
  generation: number;
  now: number;
  /** Only stages with work; run in order. */
  stages: Stage[];
  deferred: DeferredRestart[];
  /** Earliest deferred restart, for the loop's timer. */
  wakeAt?: number;
  /** Things the plan saw and chose not to act on (paused replicas, kept orphans, give-ups). */
  notes: string[];
  /** post_start / pre_stop of the services that declare them: execute runs them around its starts and stops. */
  hooks?: Record<string, ServiceHooks>;
}

/** What the daemon supplies for the east-west gateway: its locally built image and its control socket's directory. */
export interface GatewayContext {
  /** The image's tag: known long before the image is (a machine's first use builds it). */
  image: string;
  /**
   * What a kept gateway must share with `image` (its frozen init, libraries and layout; not the host's node nor the supervisor, which reach a
   * running gateway's next worker in /run/cmesh): a gateway on another image with this identity is kept. Default: image.
   */
  identity?: string;
  socketDir: string;
  /**
   * Settles once the engine has `image` (rejects with the build's error). The planner never looks at it; the
   * executor's gateway create and recreate await it, so the replicas' start overlaps a first build.
   */
  imageReady?: Promise<void>;
  /** The daemon's side of a start-first replacement (it talks to both gateways); the planner never looks at it. */
  rollout?: GatewayRolloutHooks;
  /** What a create of one of the project's own gateways needs first, beyond the image (its directory's worker). */
  beforeCreate?: () => Promise<void>;
  /**
   * The project's first gateway is the daemon's shared one (daemon/gateway-shared.ts), by this engine name; `ready`
   * resolves to its id once it runs (only its joins wait for it).
   */
  shared?: {
    name: string;
    ready: Promise<string>;
    /** Called once it joined one of the project's networks: its new address there reaches the project's table. */
    joined: () => Promise<void>;
  };
}

/** What the executor asks of the daemon's gateway hub while it replaces a gateway start-first. */
export interface GatewayRolloutHooks {
  /**
   * Resolves true once the gateway container whose hostname is `host` (its short id) reports a listener for every one
   * of `services` and a routable replica for each that has a running one; false after `timeoutMs` or on abort.
   */
  waitServing(host: string, services: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /** Tells gateway `host` to drain (`Connection: close`) and resolves once nothing is in flight there, at most `graceMs`. */
  drain(host: string, graceMs: number): Promise<void>;
  /**
   * Tells gateway `host` (drained) to close its listeners, so callers that got both addresses go to the new one, and
   * resolves once it says its in-flight work is done, at most `graceMs`.
   */
  retire(host: string, graceMs: number): Promise<void>;
  /** `host` is gone (removed, or given up): it leaves the drain list. */
  forget(host: string): void;
}

export interface PlanContext {
  now: number;
  supervisor: SupervisorView;
  /** service → local image id for built images; part of the spec hash. */
  imageIds?: Record<string, string>;
  /**
   * service → spec hash whose start-first rollout failed for the current desired generation: not retried (the old
   * replicas keep serving) until the desired state changes.
   */
  failedRollouts?: Record<string, string>;
  /** Remove containers of services the desired state no longer has (`up --remove-orphans`). */
  removeOrphans?: boolean;
  /** The east-west gateway's image and socket directory, when east-west is on and the image is ready. */
  gateway?: GatewayContext;
}

export interface DownOptions {
  /** Also remove the project's named volumes. */
  volumes: boolean;
  removeOrphans: boolean;
}

export function actionCount(plan: Plan): number {
  return plan.stages.reduce((n, s) => n + s.actions.length, 0);
}

/**
 * Actions that bring a container up and therefore wait for the stage's dependencies. Supervised restarts do not:
 * depends_on orders a bring-up (Compose), and a crash-looping dependency must not stall every self-healing pass.
 */
export function startsSomething(action: Action): boolean {
  return (
    (action.kind === 'create' && action.start) ||
    action.kind === 'start' ||
    action.kind === 'recreate' ||
    action.kind === 'rollout' ||
    action.kind === 'promote'
  );
}
