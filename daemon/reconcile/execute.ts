// execute(): runs a Plan's stages in order — gates first, then the stage's actions with bounded concurrency.
// It makes no decisions: what to do was settled by plan(); this only does it and reports what happened.

import { GATEWAY_SERVICE } from '../api/east-west.ts';
import type { ContainerEngine } from '../api/engine.ts';
import { CmeshError, isCmeshError } from '../api/errors.ts';
import type { DaemonEvent } from '../api/events.ts';
import type { ActionContext } from './action-context.ts';
import { runAction } from './execute-actions.ts';
import { formatAction } from './plan-format.ts';
import type { Action, Plan, Stage, WaitGate } from './plan-types.ts';
import { Slots } from './slots.ts';
import { joinErrors, runStages } from './stage-graph.ts';
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
  /** East-west: resolves once the gateway answers for these services by name (a `byName` gate waits for it too). */
  nameReady?: NameReady;
  /** East-west: settles once the gateway's image exists (a first use builds it); only gateway creates wait for it. */
  gatewayImage?: Promise<void>;
  /** East-west: what a gateway create needs first beyond the image (GatewayContext.beforeCreate). */
  beforeGatewayCreate?: () => Promise<void>;
  /**
   * East-west: the daemon's shared gateway. Its joins (`connect` with `shared`) wait until `ready` gives its id, and
   * `joined` follows each, so the project's table names its new address before any gate waits for it to answer.
   */
  sharedGateway?: { ready: Promise<string>; joined: () => Promise<void> };
  signal?: AbortSignal;
  now?: () => number;
  onRestart?: ActionContext['onRestart'];
  onReplaced?: ActionContext['onReplaced'];
  stopHooks?: ActionContext['stopHooks'];
  rolloutHooks?: ActionContext['rolloutHooks'];
  onRolledBack?: ActionContext['onRolledBack'];
  gatewayRollout?: ActionContext['gatewayRollout'];
}

export type NameReady = (services: string[], options: { timeoutMs: number; signal?: AbortSignal }) => Promise<void>;

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

/** Whether an action makes a gateway container (the only ones that run the gateway image). */
function needsGatewayImage(a: Action): boolean {
  return (a.kind === 'create' && a.service === GATEWAY_SERVICE) || (a.kind === 'recreate' && a.target.service === GATEWAY_SERVICE);
}

/** `p`, or the signal's reason once it aborts first (a stopped reconciler does not wait out a build). */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Runs the stages as the plan orders them: each as soon as the stages it follows are done (all earlier ones unless it
 * names them), its gates first, then its actions, at most `concurrency` actions at once across the whole plan. Inside
 * a stage all actions are attempted even when one fails (independent replicas should not wait for a sibling's bad
 * luck); after a failure no further stage starts, those already running finish, and the first error is thrown with
 * the others in its details. Level-triggered: whatever did not happen is simply planned again by the next pass.
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
    ...(options.gatewayRollout ? { gatewayRollout: options.gatewayRollout } : {}),
    ...(plan.hooks ? { hooks: plan.hooks } : {}),
  };
  const timeoutMs = options.gateTimeoutMs ?? 120_000;
  const engineGate =
    options.waitFor ??
    ((gate: WaitGate, signal: AbortSignal | undefined) =>
      waitForGate(engine, plan.project, gate, {
        timeoutMs,
        ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
        ...(options.wake === undefined ? {} : { wake: options.wake }),
        ...(signal ? { signal } : {}),
      }));
  // A meshed dependency's name is answered by its gateway: the engine's word and the gateway's listeners, side by side.
  const nameReady = options.nameReady;
  const waitFor = (gate: WaitGate, signal: AbortSignal | undefined): Promise<void> =>
    gate.byName && nameReady
      ? Promise.all([engineGate(gate, signal), nameReady([gate.service], { timeoutMs, ...(signal ? { signal } : {}) })]).then(() => undefined)
      : engineGate(gate, signal);
  let done = 0;
  const slots = new Slots(options.concurrency ?? 16);
  const signal = options.signal ?? new AbortController().signal;
  const runStage = async (stage: Stage): Promise<void> => {
    // The stage's gates are awaited together; the first that fails stops the others' polling.
    const gates = new AbortController();
    const gateSignal = AbortSignal.any([signal, gates.signal]);
    await Promise.all(stage.waits.map((gate) => waitFor(gate, gateSignal).catch((error: unknown) => {
      gates.abort(error);
      throw error;
    })));
    const errors: unknown[] = [];
    await Promise.all(
      stage.actions.map(async (action: Action) => {
        let release: (() => void) | undefined;
        try {
          // Outside a slot: a build of seconds must not hold one. A recreate waits too, before it removes the old one.
          if (options.gatewayImage && needsGatewayImage(action)) await abortable(options.gatewayImage, signal);
          if (options.beforeGatewayCreate && needsGatewayImage(action)) await abortable(options.beforeGatewayCreate(), signal);
          // The shared gateway may still be on its way (a daemon's first east-west up makes it): joined once it runs.
          const shared = action.kind === 'connect' && action.shared ? options.sharedGateway : undefined;
          const id = shared ? await abortable(shared.ready, signal) : undefined;
          release = await slots.take(signal);
          signal.throwIfAborted();
          await runAction(ctx, id === undefined || action.kind !== 'connect' ? action : { ...action, target: { ...action.target, id } });
          await shared?.joined();
          done++;
        } catch (error) {
          errors.push(asCmeshError(error, formatAction(plan, action)));
        } finally {
          release?.();
        }
      }),
    );
    if (errors.length > 0) throw joinErrors(errors);
  };
  await runStages(plan.stages, runStage, signal);
  return { done };
}
