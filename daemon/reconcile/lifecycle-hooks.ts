// post_start / pre_stop: cmesh runs them itself through the engine's exec API, as Docker Compose v2 does (Engine 20.10
// has no lifecycle hooks of its own). post_start failing fails the replica's start; pre_stop failing only warns.

import type { ContainerEngine } from '../api/engine.ts';
import { CmeshError, isCmeshError } from '../api/errors.ts';
import type { DaemonEvent } from '../api/events.ts';
import type { LifecycleHook, ServiceSpec } from '../api/project.ts';
import type { ContainerRef, ServiceHooks } from './plan-types.ts';

/** One hook command may run this long; a hook is a setup or flush step, not a second entrypoint. */
export const HOOK_TIMEOUT_MS = 60_000;
/** Output kept in an error or warning: the tail says why it failed. */
const OUTPUT_TAIL = 2_000;

export interface HookContext {
  engine: ContainerEngine;
  project: string;
  emit: (event: DaemonEvent) => void;
  now: () => number;
  timeoutMs?: number;
}

/** service → hooks, for the services of `services` that declare any (an empty record when none do). */
export function hooksOf(services: Record<string, ServiceSpec>): Record<string, ServiceHooks> {
  const out: Record<string, ServiceHooks> = {};
  for (const [name, s] of Object.entries(services)) {
    if (!s.postStart?.length && !s.preStop?.length) continue;
    out[name] = { ...(s.postStart?.length ? { postStart: s.postStart } : {}), ...(s.preStop?.length ? { preStop: s.preStop } : {}) };
  }
  return out;
}

type Outcome = { ok: true } | { ok: false; why: string; output: string };

async function runOne(ctx: HookContext, ref: ContainerRef, hook: LifecycleHook): Promise<Outcome> {
  const timeoutMs = ctx.timeoutMs ?? HOOK_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const options = {
    ...(hook.user === undefined ? {} : { user: hook.user }),
    ...(hook.workingDir === undefined ? {} : { workingDir: hook.workingDir }),
    ...(Object.keys(hook.environment).length === 0 ? {} : { env: hook.environment }),
    ...(hook.privileged === undefined ? {} : { privileged: hook.privileged }),
  };
  try {
    const result = await Promise.race([ctx.engine.exec(ref.id, hook.command, options), timeout]);
    if (result === 'timeout') return { ok: false, why: `did not finish within ${timeoutMs} ms`, output: '' };
    if (result.exitCode !== 0) return { ok: false, why: `exited with code ${result.exitCode}`, output: result.output.slice(-OUTPUT_TAIL) };
    return { ok: true };
  } catch (error) {
    return { ok: false, why: `could not run: ${isCmeshError(error) || error instanceof Error ? error.message : String(error)}`, output: '' };
  } finally {
    clearTimeout(timer);
  }
}

function warn(ctx: HookContext, ref: ContainerRef, key: 'post_start' | 'pre_stop', message: string): void {
  ctx.emit({ type: 'warning', time: ctx.now(), project: ctx.project, service: ref.service, key, message });
}

/**
 * Runs the replica's post_start commands in order, after its container started. The first failure stops the container
 * (so the loop sees a failed replica and its restart policy decides, rerunning the hook) and throws
 * CMESH_E_HOOK_FAILED naming the command.
 */
export async function runPostStart(ctx: HookContext, ref: ContainerRef, hooks: LifecycleHook[] | undefined): Promise<void> {
  for (const [i, hook] of (hooks ?? []).entries()) {
    const outcome = await runOne(ctx, ref, hook);
    if (outcome.ok) continue;
    const what = `post_start[${i}] (${hook.command.join(' ').slice(0, 200)}) of ${ref.name} ${outcome.why}`;
    warn(ctx, ref, 'post_start', what);
    // A kill, not a stop: the replica never counted as started and must read as failed (exit 137) to its restart policy.
    await ctx.engine.killContainer(ref.id, 'SIGKILL').catch(() => undefined);
    throw new CmeshError('CMESH_E_HOOK_FAILED', what, {
      hint: outcome.output ? `its output ends with:\n${outcome.output.trimEnd()}` : `check the command with: docker exec ${ref.name} ${hook.command.join(' ')}`,
      details: { service: ref.service, replica: ref.replica, container: ref.id, hook: 'post_start', index: i, output: outcome.output },
    });
  }
}

/** Runs the replica's pre_stop commands in order before it is stopped; a failure is a warning event, the stop goes on. */
export async function runPreStop(ctx: HookContext, ref: ContainerRef, hooks: LifecycleHook[] | undefined): Promise<void> {
  for (const [i, hook] of (hooks ?? []).entries()) {
    const outcome = await runOne(ctx, ref, hook);
    if (outcome.ok) continue;
    const tail = outcome.output ? `: ${outcome.output.trimEnd().split('\n').slice(-3).join(' | ')}` : '';
    warn(ctx, ref, 'pre_stop', `pre_stop[${i}] (${hook.command.join(' ').slice(0, 200)}) of ${ref.name} ${outcome.why}${tail}; stopping it anyway`);
  }
}
