// What every executed action works with: the engine port, the project, the event sink and the daemon's hooks.
// Its own module so execute-actions.ts and execute-rollout.ts share it without importing each other.

import type { ContainerEngine, Endpoint } from '../api/engine.ts';
import type { DaemonEvent } from '../api/events.ts';
import type { ContainerRef, GatewayRolloutHooks, ServiceHooks } from './plan-types.ts';

export interface ActionContext {
  engine: ContainerEngine;
  project: string;
  emit: (event: DaemonEvent) => void;
  now: () => number;
  /** Told about every supervised restart, so the supervisor can count it. */
  onRestart?: (service: string, replica: number) => void;
  /** Told when a replica got a new container, so restart history starts over. */
  onReplaced?: (service: string, replica: number) => void;
  /** The mesh's drain: called around every stop/remove of a replica container (reconcile never imports mesh/). */
  stopHooks?: StopHooks;
  /** The mesh's side of start-first rollouts; without it a new replica counts as healthy when the engine says so. */
  rolloutHooks?: RolloutHooks;
  /** Told when a rollout was rolled back, so the loop does not retry that spec hash for this desired generation. */
  onRolledBack?: (service: string, specHash: string) => void;
  /** The gateway hub's side of a start-first gateway replacement; without it the new gateway counts once it runs. */
  gatewayRollout?: GatewayRolloutHooks;
  /** The plan's post_start / pre_stop per service (Plan.hooks). */
  hooks?: Record<string, ServiceHooks>;
}

/** Lets the proxy route to a rollout's new container beside the old one, and hand it the replica's place after. */
export interface RolloutHooks {
  /** Adds the new container to the service's pool and resolves true once it passes health, false on timeout/abort. */
  waitHealthy(next: ContainerRef, endpoints: Endpoint[], timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /** The new container failed or goes away: it leaves the pool. */
  discard(next: ContainerRef): void;
  /** The new container was renamed over the (removed) old one: it takes the replica's place in the pool. */
  promote(next: ContainerRef): void;
}

/** Lets the proxy stop sending a replica traffic and finish what is in flight before the engine stops it. */
export interface StopHooks {
  /** Before a possibly running replica is stopped or removed; resolves when it drained (bounded by graceMs). */
  beforeStop(ref: ContainerRef, graceMs: number): Promise<void>;
  /** After the stop (removed = the container is gone for good), whether it succeeded or not. */
  afterStop(ref: ContainerRef, removed: boolean): void;
}

type ContainerAction = Extract<DaemonEvent, { type: 'container' }>['action'];

export function emitContainer(ctx: ActionContext, action: ContainerAction, ref: ContainerRef, exitCode?: number): void {
  ctx.emit({
    type: 'container',
    action,
    time: ctx.now(),
    project: ctx.project,
    service: ref.service,
    replica: ref.replica,
    container: ref.id,
    name: ref.name,
    ...(exitCode === undefined ? {} : { exitCode }),
  });
}
