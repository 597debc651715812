// Runs a start-first rollout: new container beside the old, gated on health, then drain+remove the old and rename the
// new over it. A new container that exits or stays unhealthy is removed and the old replicas keep serving (rollback);
// any other failure (the engine down or slow, a 5xx) is no verdict on the version and goes back to the loop to retry.

import type { ContainerInfo } from '../api/engine.ts';
import { CmeshError, isCmeshError } from '../api/errors.ts';
import { isPendingNext } from '../api/labels.ts';
import { type ActionContext, emitContainer } from './action-context.ts';
import { createNext, emitRollout } from './execute-rollout-next.ts';
import { drain, remove } from './execute-stop.ts';
import { shortHash } from './hash.ts';
import { runPostStart } from './lifecycle-hooks.ts';
import type { Action, ContainerRef, RolloutStep } from './plan-types.ts';
import { lastLogLines, sleep } from './wait.ts';

type Rollout = Extract<Action, { kind: 'rollout' }>;

/** How often the engine is asked whether the new container died while the mesh probes it. */
const EXIT_POLL_MS = 200;
/** Without the mesh: a container without a healthcheck must stay running this long (ready.ts does the same). */
const ENGINE_SETTLE_MS = 1_000;

/**
 * The new container itself failed: it exited, turned unhealthy or never passed health. Only this rolls a version back
 * (and keeps the loop from retrying it); every other error is rethrown as it came.
 */
class NextFailed extends Error {}

/** Someone removed the new container (docker rm -f): no verdict on the version, the next pass starts the step over. */
const vanished = (id: string): CmeshError =>
  new CmeshError('CMESH_E_ENGINE', `the rollout's new container ${id.slice(0, 12)} was removed behind cmesh's back`, {
    hint: 'the old replica keeps serving; the next pass creates a new container',
    details: { container: id },
  });

/**
 * At most `maxSurge` steps between creating their new container and draining their old one. A step frees its slot as
 * soon as the old replica is out of the pool with nothing in flight, so the old container's stop (its grace period) and
 * removal overlap the next step's create and start; the pool never serves more than count + surge replicas. After a
 * failure no further step starts; the ones under way finish, then the first error is thrown.
 */
export async function runRollout(ctx: ActionContext, a: Rollout): Promise<void> {
  const surge = Math.max(1, a.maxSurge);
  emitRollout(ctx, a.service, 'start', `${a.steps.length} replica(s) to ${shortHash(a.specHash)}, start-first, surge ${surge}`);
  const queue = [...a.steps];
  const running: Promise<void>[] = [];
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    for (let step = queue.shift(); step && failures.length === 0; step = queue.shift()) {
      let freeSlot!: () => void;
      const slotFree = new Promise<void>((resolve) => {
        freeSlot = resolve;
      });
      const run = rollOne(ctx, a, step, freeSlot).catch((error: unknown) => {
        failures.push(error);
      });
      running.push(run);
      await Promise.race([slotFree, run]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(surge, a.steps.length) }, worker));
  await Promise.all(running);
  if (failures.length > 0) {
    // The rest of the rollout is abandoned: replicas already replaced stay new, the others keep the old version. Any
    // replica's verdict marks the version failed, even when another step's engine error came first.
    if (failures.some((e) => isCmeshError(e) && e.code === 'CMESH_E_ROLLOUT_FAILED')) ctx.onRolledBack?.(a.service, a.specHash);
    throw failures[0];
  }
  emitRollout(ctx, a.service, 'done', `${a.steps.length} replica(s) now on ${shortHash(a.specHash)}`);
}

/** A pending new container goes: out of the pool first, then force-removed (it never took traffic on its own). */
async function removeNext(ctx: ActionContext, ref: ContainerRef): Promise<void> {
  ctx.rolloutHooks?.discard(ref);
  await ctx.engine.removeContainer(ref.id, { force: true });
  emitContainer(ctx, 'removed', ref);
}

/** One replica: new container up and healthy, old one drained (`drained` frees the surge slot), removed, renamed over. */
async function rollOne(ctx: ActionContext, a: Rollout, step: RolloutStep, drained: () => void): Promise<void> {
  if (step.stale) await removeNext(ctx, step.stale);
  const ref = (id: string): ContainerRef => ({ id, name: step.next.name, service: step.target.service, replica: step.target.replica });
  const next = await createNext(ctx, step.next, ref, isPendingNext, (stale) => removeNext(ctx, stale));
  emitContainer(ctx, 'created', next);
  try {
    await ctx.engine.startContainer(next.id);
    await postStartOf(ctx, next);
    emitContainer(ctx, 'started', next);
    await waitHealthy(ctx, next, a.timeoutMs);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    if (!(error instanceof NextFailed)) {
      // Out of the pool at once; removed now if the engine answers, else the next pass finds it as a stale `-next`.
      await removeNext(ctx, next).catch(() => undefined);
      emitRollout(ctx, a.service, 'progress', `${next.name} interrupted (${why}); ${step.target.name} keeps serving, the next pass retries`, { replica: next.replica });
      throw error;
    }
    const logs = await lastLogLines(ctx.engine, next.id, 20).catch(() => []);
    await removeNext(ctx, next).catch(() => undefined);
    emitRollout(ctx, a.service, 'rolled-back', `${next.name}: ${why}; ${step.target.name} keeps serving`, { replica: next.replica, logs });
    throw new CmeshError('CMESH_E_ROLLOUT_FAILED', `rollout of ${a.service} to ${shortHash(a.specHash)} rolled back: ${next.name} ${why}`, {
      hint: 'the old replicas keep serving; fix the change and save again (or run `cmesh up`). The last log lines are below',
      details: { service: a.service, replica: next.replica, specHash: a.specHash, container: next.id, logs },
      cause: error,
    });
  }
  emitRollout(ctx, a.service, 'progress', `${next.name} healthy, replacing ${step.target.name}`, { replica: next.replica });
  // Drained here, so the next step can start while the old container stops; remove() must not drain (wait) again.
  await drain(ctx, step.target, a.stopTimeoutSec);
  drained();
  await remove(ctx, step.target, a.stopTimeoutSec, true);
  await ctx.engine.renameContainer(next.id, step.canonicalName);
  ctx.rolloutHooks?.promote(next);
  ctx.onReplaced?.(next.service, next.replica);
}

/** The new container's post_start; its failure is a verdict on the version (rolled back), like a crash. */
async function postStartOf(ctx: ActionContext, next: ContainerRef): Promise<void> {
  try {
    await runPostStart(ctx, next, ctx.hooks?.[next.service]?.postStart);
  } catch (error) {
    if (isCmeshError(error) && error.code === 'CMESH_E_HOOK_FAILED') throw new NextFailed(`failed its post_start: ${error.message}`);
    throw error;
  }
}

/** Rejects when the container exits, turns unhealthy or vanishes; never resolves otherwise (raced against health). */
async function watchExit(ctx: ActionContext, id: string, signal: AbortSignal): Promise<never> {
  for (;;) {
    await sleep(EXIT_POLL_MS, signal).catch(() => undefined);
    if (signal.aborted) return new Promise<never>(() => {});
    const info = await ctx.engine.inspectContainer(id);
    if (!info) throw vanished(id);
    if (info.state === 'exited' || info.state === 'dead') throw new NextFailed(`exited with code ${info.exitCode ?? '?'} during start`);
    if (info.health === 'unhealthy') throw new NextFailed('failed its healthcheck');
  }
}

/** Engine-only readiness (no mesh): running, and healthy when it has a healthcheck, else running for a settle period. */
async function engineHealthy(ctx: ActionContext, id: string, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  const deadline = ctx.now() + timeoutMs;
  const since = ctx.now();
  while (!signal.aborted && ctx.now() < deadline) {
    const info: ContainerInfo | undefined = await ctx.engine.inspectContainer(id);
    if (info?.state === 'running' && (info.health === 'healthy' || (info.health === 'none' && ctx.now() - since >= ENGINE_SETTLE_MS))) return true;
    await sleep(EXIT_POLL_MS, signal).catch(() => undefined);
  }
  return false;
}

async function waitHealthy(ctx: ActionContext, next: ContainerRef, timeoutMs: number): Promise<void> {
  const ac = new AbortController();
  try {
    const info = await ctx.engine.inspectContainer(next.id);
    if (!info) throw vanished(next.id);
    const hooks = ctx.rolloutHooks;
    const healthy = hooks ? hooks.waitHealthy(next, info.endpoints, timeoutMs, ac.signal) : engineHealthy(ctx, next.id, timeoutMs, ac.signal);
    const ok = await Promise.race([healthy, watchExit(ctx, next.id, ac.signal)]);
    if (!ok) throw new NextFailed(`did not become healthy within ${timeoutMs} ms`);
  } finally {
    ac.abort();
  }
}

/** An interrupted rollout's new container whose old replica is gone takes the canonical name (and pool place). */
export async function promote(ctx: ActionContext, a: Extract<Action, { kind: 'promote' }>): Promise<void> {
  await ctx.engine.renameContainer(a.target.id, a.name);
  ctx.rolloutHooks?.promote({ ...a.target, name: a.name });
  emitContainer(ctx, 'adopted', { ...a.target, name: a.name });
}
