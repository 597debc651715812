// One plan action against the engine port: create/adopt, start (with exit detection), stop, remove, recreate, restart.

import { GATEWAY_SERVICE } from '../api/east-west.ts';
import type { ContainerEngine, ContainerInfo, Endpoint } from '../api/engine.ts';
import { CmeshError, isCmeshError } from '../api/errors.ts';
import type { DaemonEvent } from '../api/events.ts';
import { Labels } from '../api/labels.ts';
import { promote, runRollout } from './execute-rollout.ts';
import type { Action, ContainerRef } from './plan-types.ts';
import { lastLogLines } from './wait.ts';

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

/** Drains for at most the stop grace period, and never longer than this whatever stop_grace_period says. */
const MAX_DRAIN_MS = 30_000;

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

/** Same project, service and replica labels: a container we made earlier (a crashed pass, a lost response). */
function isOurReplica(info: ContainerInfo, project: string, service: string, replica: number): boolean {
  if (service === GATEWAY_SERVICE) return info.labels[Labels.managed] === 'true' && info.labels[Labels.project] === project && info.labels[Labels.role] === 'gateway';
  return (
    info.labels[Labels.managed] === 'true' &&
    info.labels[Labels.project] === project &&
    info.labels[Labels.service] === service &&
    info.labels[Labels.replica] === String(replica)
  );
}

async function createOrAdopt(ctx: ActionContext, a: Extract<Action, { kind: 'create' | 'recreate' }>): Promise<ContainerRef> {
  const service = a.kind === 'create' ? a.service : a.target.service;
  const replica = a.kind === 'create' ? a.replica : a.target.replica;
  try {
    const { id } = await ctx.engine.createContainer(a.spec);
    const ref = { id, name: a.spec.name, service, replica };
    emitContainer(ctx, 'created', ref);
    ctx.onReplaced?.(service, replica);
    return ref;
  } catch (error) {
    if (!isCmeshError(error) || error.code !== 'CMESH_E_NAME_CONFLICT') throw error;
    const existingId = typeof error.details['existingId'] === 'string' ? error.details['existingId'] : a.spec.name;
    const existing = await ctx.engine.inspectContainer(existingId);
    if (!existing || !isOurReplica(existing, ctx.project, service, replica)) {
      throw new CmeshError('CMESH_E_NAME_CONFLICT', `container name ${a.spec.name} is taken by a container cmesh does not own`, {
        hint: `remove it (docker rm -f ${a.spec.name}) or rename the project`,
        details: { name: a.spec.name, existingId: existing?.id ?? existingId },
        cause: error,
      });
    }
    // Adopt, never duplicate: if its spec is stale, the next pass sees the hash and recreates it properly.
    const ref = { id: existing.id, name: existing.name, service, replica };
    emitContainer(ctx, 'adopted', ref);
    return ref;
  }
}

/** Starts and checks the container did not die on the spot; a crash carries its last log lines. */
export async function startChecked(ctx: ActionContext, ref: ContainerRef): Promise<void> {
  await ctx.engine.startContainer(ref.id);
  const info = await ctx.engine.inspectContainer(ref.id);
  if (info && (info.state === 'exited' || info.state === 'dead') && info.exitCode !== 0) {
    const logs = await lastLogLines(ctx.engine, ref.id, 20);
    emitContainer(ctx, 'died', ref, info.exitCode);
    throw new CmeshError('CMESH_E_CONTAINER_EXITED', `${ref.name} exited with code ${info.exitCode ?? '?'} right after start`, {
      hint: logs.length > 0 ? `its last log lines are below; more with: cmesh logs ${ref.service}` : `see: docker logs ${ref.name}`,
      details: { service: ref.service, replica: ref.replica, container: ref.id, exitCode: info.exitCode, logs },
    });
  }
  emitContainer(ctx, 'started', ref);
}

/** Takes the replica out of the mesh and lets its in-flight requests finish, bounded by its stop grace period. */
export async function drain(ctx: ActionContext, ref: ContainerRef, timeoutSec: number): Promise<void> {
  await ctx.stopHooks?.beforeStop(ref, Math.min(timeoutSec * 1000, MAX_DRAIN_MS));
}

async function stop(ctx: ActionContext, ref: ContainerRef, timeoutSec: number, removing = false, drained = false): Promise<void> {
  if (!drained) await drain(ctx, ref, timeoutSec);
  try {
    await ctx.engine.stopContainer(ref.id, timeoutSec);
  } finally {
    if (!removing) ctx.stopHooks?.afterStop(ref, false);
  }
  emitContainer(ctx, 'stopped', ref);
}

/** Stops (drained first, unless the caller already did) and removes a replica; it leaves the mesh for good. */
export async function remove(ctx: ActionContext, ref: ContainerRef, stopTimeoutSec: number | undefined, drained = false): Promise<void> {
  try {
    if (stopTimeoutSec !== undefined) await stop(ctx, ref, stopTimeoutSec, true, drained);
    else if (!drained) await ctx.stopHooks?.beforeStop(ref, 0);
    // force: the container may have been restarted behind our back between stop and remove.
    await ctx.engine.removeContainer(ref.id, { force: true });
  } finally {
    ctx.stopHooks?.afterStop(ref, true);
  }
  emitContainer(ctx, 'removed', ref);
}

export async function runAction(ctx: ActionContext, a: Action): Promise<void> {
  switch (a.kind) {
    case 'ensure-network':
      await ctx.engine.createNetwork(a.spec);
      return;
    case 'ensure-volume':
      await ctx.engine.createVolume(a.spec);
      return;
    case 'create': {
      const ref = await createOrAdopt(ctx, a);
      if (a.start) await startChecked(ctx, ref);
      return;
    }
    case 'start':
      await startChecked(ctx, a.target);
      return;
    case 'stop':
      await stop(ctx, a.target, a.timeoutSec);
      return;
    case 'remove':
      await remove(ctx, a.target, a.stopTimeoutSec);
      return;
    case 'recreate': {
      // stop-first: the only strategy so far; the mesh's start-first branches here.
      await remove(ctx, a.target, a.stopTimeoutSec);
      await startChecked(ctx, await createOrAdopt(ctx, a));
      return;
    }
    case 'rollout':
      await runRollout(ctx, a);
      return;
    case 'promote':
      await promote(ctx, a);
      return;
    case 'restart':
      emitContainer(ctx, 'restarting', a.target);
      if (a.stopTimeoutSec !== undefined) await stop(ctx, a.target, a.stopTimeoutSec);
      // Count before starting: a start that fails is still an attempt, or a broken replica would never back off.
      ctx.onRestart?.(a.target.service, a.target.replica);
      try {
        await startChecked(ctx, a.target);
      } catch (error) {
        // A crash-looping replica is the supervisor's business (next pass, longer backoff), not a failed pass.
        if (!isCmeshError(error) || error.code !== 'CMESH_E_CONTAINER_EXITED') throw error;
      }
      return;
    case 'remove-network':
      await ctx.engine.removeNetwork(a.name);
      return;
    case 'remove-volume':
      await ctx.engine.removeVolume(a.name);
      return;
  }
}
