// Restart policy and crash backoff per replica: a pure state machine with an injected clock; plan() reads a snapshot.
//
// State lives in memory only. After a daemon restart every replica starts with zero attempts: the worst case is one
// quick restart more than the backoff would have allowed, which beats persisting a counter that may be stale.

import type { ContainerInfo } from '../api/engine.ts';
import { replicaId } from '../api/labels.ts';
import type { RestartPolicy, ServiceSpec } from '../api/project.ts';
import { type BackoffPolicy, backoffDelay, RESTART_BACKOFF } from './backoff.ts';

/** A replica that stayed up this long is considered healthy again: its attempt counter resets (like Docker's). */
export const RESET_AFTER_MS = 600_000;

export interface ReplicaRestartState {
  /** Consecutive restarts since the replica last ran for RESET_AFTER_MS; drives the backoff and on-failure:N. */
  attempts: number;
  /** All restarts cmesh did for this replica since the daemon started (for `ps`). */
  total: number;
  lastRestartAt?: number;
}

/** The snapshot plan() consumes; plain data so golden cases can spell it out. Keys are `service#replica`. */
export interface SupervisorView {
  replicas: Record<string, ReplicaRestartState>;
}

export type RestartDecision =
  | { kind: 'none'; reason: string }
  | { kind: 'give-up'; reason: string }
  | { kind: 'restart'; attempt: number; delayMs: number; notBefore: number; reason: string };

export interface RestartRule {
  policy: RestartPolicy;
  maxRetries?: number;
  /** deploy.restart_policy.delay: a fixed wait instead of the exponential backoff. */
  delayMs?: number;
  /** deploy.restart_policy.window: a run this long resets the attempt count (instead of RESET_AFTER_MS). */
  windowMs?: number;
}

/** A service's restart rule: `restart` or deploy.restart_policy, as the loader settled it. */
export function restartRule(service: Pick<ServiceSpec, 'restart' | 'restartMaxRetries' | 'restartDelayMs' | 'restartWindowMs'> | undefined): RestartRule {
  if (!service) return { policy: 'no' };
  return {
    policy: service.restart,
    ...(service.restartMaxRetries === undefined ? {} : { maxRetries: service.restartMaxRetries }),
    ...(service.restartDelayMs === undefined ? {} : { delayMs: service.restartDelayMs }),
    ...(service.restartWindowMs === undefined ? {} : { windowMs: service.restartWindowMs }),
  };
}

export interface SupervisorOptions {
  now?: () => number;
  backoff?: BackoffPolicy;
  resetAfterMs?: number;
}

export function replicaKey(service: string, replica: number): string {
  return replicaId(service, replica);
}

export const EMPTY_VIEW: SupervisorView = { replicas: {} };

/**
 * Decides whether a replica that exited (or runs unhealthy) is restarted, and not before when.
 * Pure: everything comes from the container, the remembered state and `now`.
 */
export function decideRestart(
  rule: RestartRule,
  container: ContainerInfo,
  entry: ReplicaRestartState | undefined,
  now: number,
  backoff: BackoffPolicy = RESTART_BACKOFF,
  resetAfterMs: number = RESET_AFTER_MS,
): RestartDecision {
  const unhealthy = container.state === 'running' && container.health === 'unhealthy';
  const failed = unhealthy || container.state === 'dead' || (container.exitCode ?? 1) !== 0;
  const what = unhealthy ? 'unhealthy' : `exited with code ${container.exitCode ?? '?'}`;
  if (rule.policy === 'no') return { kind: 'none', reason: `${what}, restart: no` };
  if (rule.policy === 'on-failure' && !failed) return { kind: 'none', reason: `${what}, restart: on-failure` };

  // A long run before this exit means the crash loop (if any) is over: start counting from zero again.
  const ranFor =
    container.startedAt !== undefined && container.finishedAt !== undefined
      ? container.finishedAt - container.startedAt
      : 0;
  const attempts = ranFor >= (rule.windowMs ?? resetAfterMs) ? 0 : (entry?.attempts ?? 0);
  // Only on-failure:N and deploy.restart_policy.max_attempts set maxRetries; the latter limits `any` too (Compose spec).
  if (rule.maxRetries !== undefined && attempts >= rule.maxRetries) {
    const limit = rule.policy === 'on-failure' ? `on-failure:${rule.maxRetries}` : `max_attempts ${rule.maxRetries}`;
    return { kind: 'give-up', reason: `${what}, gave up after ${attempts} restarts (${limit})` };
  }
  const delayMs = rule.delayMs ?? backoffDelay(attempts, backoff);
  // Count the delay from the moment the replica failed, or from our last restart when the engine gives no exit time.
  const since = unhealthy
    ? Math.max(entry?.lastRestartAt ?? 0, container.startedAt ?? 0)
    : (container.finishedAt ?? entry?.lastRestartAt ?? now);
  return { kind: 'restart', attempt: attempts + 1, delayMs, notBefore: since + delayMs, reason: what };
}

/** Mutable holder of restart state; the loop records what execute did and hands plan() a snapshot. */
export class Supervisor {
  readonly #now: () => number;
  readonly #backoff: BackoffPolicy;
  readonly #resetAfterMs: number;
  readonly #state = new Map<string, ReplicaRestartState>();

  constructor(options: SupervisorOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#backoff = options.backoff ?? RESTART_BACKOFF;
    this.#resetAfterMs = options.resetAfterMs ?? RESET_AFTER_MS;
  }

  /** Called after execute restarted a replica. */
  recordRestart(key: string): ReplicaRestartState {
    const prev = this.#state.get(key) ?? { attempts: 0, total: 0 };
    const next = { attempts: prev.attempts + 1, total: prev.total + 1, lastRestartAt: this.#now() };
    this.#state.set(key, next);
    return next;
  }

  /** Called for every running replica on each pass: after RESET_AFTER_MS (or the service's window) the backoff starts over. */
  observeRunning(key: string, startedAt: number | undefined, windowMs?: number): void {
    const entry = this.#state.get(key);
    if (!entry || entry.attempts === 0 || startedAt === undefined) return;
    if (this.#now() - startedAt >= (windowMs ?? this.#resetAfterMs)) this.#state.set(key, { ...entry, attempts: 0 });
  }

  /** A replica that was removed or recreated starts a fresh history. */
  forget(key: string): void {
    this.#state.delete(key);
  }

  restarts(key: string): number {
    return this.#state.get(key)?.total ?? 0;
  }

  decide(key: string, rule: RestartRule, container: ContainerInfo): RestartDecision {
    return decideRestart(rule, container, this.#state.get(key), this.#now(), this.#backoff, this.#resetAfterMs);
  }

  view(): SupervisorView {
    const replicas: Record<string, ReplicaRestartState> = {};
    for (const [key, value] of this.#state) replicas[key] = { ...value };
    return { replicas };
  }
}
