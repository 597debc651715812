// Exponential backoff shared by the supervisor (replica restarts) and the loop (failed passes).

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

/** Replica restarts: 1 s doubling, capped at 5 min (Docker's restart manager and kubelet CrashLoopBackOff agree). */
export const RESTART_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 300_000 };

/** Failed reconcile passes: retry quickly, but never hammer a sick engine more than twice a minute. */
export const PASS_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 30_000 };

/** Delay before retry number `attempt + 1`; attempt 0 waits baseMs. Exponent clamped so huge counts never overflow. */
export function backoffDelay(attempt: number, policy: BackoffPolicy = RESTART_BACKOFF): number {
  const exp = Math.min(Math.max(0, Math.floor(attempt)), 30);
  return Math.min(policy.baseMs * 2 ** exp, policy.capMs);
}
