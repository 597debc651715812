// execute(): runs a Plan's stages in order — gates first, then the stage's actions with bounded concurrency.
// It makes no decisions: what to do was settled by plan(); this only does it and reports what happened.

import type { ContainerEngine } from '../api/engine.ts';
import { CmeshError, isCmeshError } from '../api/errors.ts';
import type { DaemonEvent } from '../api/events.ts';
import type { ActionContext } from './action-context.ts';
import { runAction } from './execute-actions.ts';
import { formatAction } from './plan-format.ts';
import type { Action, Plan, WaitGate } from './plan-types.ts';
import type { WakeSource } from './nap.ts';
import { waitForGate } from './wait.ts';

export interface ExecuteOptions {
  /** Actions run concurrently inside a stage, at most this many at once (default 16, so a typical project's replicas
   * start in one wave; the engine serialises much of a start anyway, so more buys nothing; Compose allows 64). */
  concurrency?: number;
  /** How long one depends_on gate may take (default 120 s). */
  gateTimeoutMs?: number;
  pollMs?: number;
  /** Engine events for the project: they end the gate waiter's naps early. */
  wake?: WakeSource;
  /** Replaces the gate waiter (tests). */
  waitFor?: (gate: WaitGate, signal: AbortSignal | undefined) => Promise<void>;
  signal?: AbortSignal;
  now?: () => number;
  onRestart?: ActionContext['onRestart'];
  onReplaced?: ActionContext['onReplaced'];
  stopHooks?: ActionContext['stopHooks'];
  rolloutHooks?: ActionContext['rolloutHooks'];
  onRolledBack?: ActionContext['onRolledBack'];
}

export interface ExecuteResult {
  /** Actions that completed. */
  done: number;
}

/** Anything that is not a CmeshError is a bug in cmesh or in the engine adapter; say so rather than guess. */
function asCmeshError(error: unknown, what: string): CmeshError {
  if (isCmeshError(error)) return error;
  return new CmeshError('CMESH_E_BUG', `unexpected error during ${what}: ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });
}

async function pool<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<unknown[]> {
  const errors: unknown[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await run(item);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return errors;
}

/**
 * Runs every stage in order. Inside a stage all actions are attempted even when one fails (independent replicas should
 * not wait for a sibling's bad luck); after a failed stage nothing later runs, and the first error is thrown with the
 * others in its details. Level-triggered: whatever did not happen is simply planned again by the next pass.
 */
export async function execute(
  plan: Plan,
  engine: ContainerEngine,
  emit: (event: DaemonEvent) => void,
  options: ExecuteOptions = {},
): Promise<ExecuteResult> {
  const ctx: ActionContext = {
    engine,
    project: plan.project,
    emit,
    now: options.now ?? Date.now,
    ...(options.onRestart ? { onRestart: options.onRestart } : {}),
    ...(options.onReplaced ? { onReplaced: options.onReplaced } : {}),
    ...(options.stopHooks ? { stopHooks: options.stopHooks } : {}),
    ...(options.rolloutHooks ? { rolloutHooks: options.rolloutHooks } : {}),
    ...(options.onRolledBack ? { onRolledBack: options.onRolledBack } : {}),
    ...(plan.hooks ? { hooks: plan.hooks } : {}),
  };
  const waitFor =
    options.waitFor ??
    ((gate: WaitGate, signal: AbortSignal | undefined) =>
      waitForGate(engine, plan.project, gate, {
        timeoutMs: options.gateTimeoutMs ?? 120_000,
        ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
        ...(options.wake === undefined ? {} : { wake: options.wake }),
        ...(signal ? { signal } : {}),
      }));
  let done = 0;
  for (const stage of plan.stages) {
    options.signal?.throwIfAborted();
    for (const gate of stage.waits) await waitFor(gate, options.signal);
    const errors = await pool(stage.actions, options.concurrency ?? 16, async (action: Action) => {
      options.signal?.throwIfAborted();
      try {
        await runAction(ctx, action);
        done++;
      } catch (error) {
        throw asCmeshError(error, formatAction(plan, action));
      }
    });
    if (errors.length > 0) {
      const [first, ...rest] = errors as CmeshError[];
      if (rest.length === 0) throw first;
      throw new CmeshError(first!.code, first!.message, {
        ...(first!.hint === undefined ? {} : { hint: first!.hint }),
        details: { ...first!.details, otherErrors: rest.map((e) => `${e.code}: ${e.message}`) },
        cause: first,
      });
    }
  }
  return { done };
}
