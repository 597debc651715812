// Taking a replica out: drain it through the mesh's stop hooks, stop it, remove it. Shared by plain actions and by
// rollouts (which drain the old replica early to free their surge slot).

import { type ActionContext, emitContainer } from './action-context.ts';
import { runPreStop } from './lifecycle-hooks.ts';
import type { ContainerRef } from './plan-types.ts';

/** Drains for at most the stop grace period, and never longer than this whatever stop_grace_period says. */
const MAX_DRAIN_MS = 30_000;

/** Takes the replica out of the mesh and lets its in-flight requests finish, bounded by its stop grace period. */
export async function drain(ctx: ActionContext, ref: ContainerRef, timeoutSec: number): Promise<void> {
  await ctx.stopHooks?.beforeStop(ref, Math.min(timeoutSec * 1000, MAX_DRAIN_MS));
}

export async function stop(ctx: ActionContext, ref: ContainerRef, timeoutSec: number, removing = false, drained = false): Promise<void> {
  if (!drained) await drain(ctx, ref, timeoutSec);
  try {
    // Out of traffic first, then the app's own pre_stop (flush, deregister), then the signal.
    await runPreStop(ctx, ref, ctx.hooks?.[ref.service]?.preStop);
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
