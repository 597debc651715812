// When and on which node the supervisor starts again a worker that died unasked. A worker that exits as soon as it
// starts (a delivered runtime whose loader or libraries do not load: `ld.so` exits 127) would otherwise be forked
// every second forever: after a few early exits on a delivered runtime the worker falls back to the supervisor's own
// node, and early exits on that node are retried with a doubling delay. A pure decision, so its table is testable.

export interface RespawnPolicy {
  /** A worker that exits within this long of its fork exited early (default 10 s). */
  earlyMs: number;
  /** Early exits in a row on a delivered runtime before the worker falls back to the supervisor's node (default 3). */
  fallbackAfter: number;
  /** The first respawn delay, and the one after a worker that ran longer than `earlyMs` (default 1 s). */
  baseMs: number;
  /** The doubling delay's cap (default 30 s). */
  maxMs: number;
}

export const DEFAULT_RESPAWN: RespawnPolicy = { earlyMs: 10_000, fallbackAfter: 3, baseMs: 1000, maxMs: 30_000 };

/** What the supervisor knows of the exit: how long the worker ran, and whether on a delivered runtime. */
export interface WorkerExit {
  ranMs: number;
  onRuntime: boolean;
}

export interface Respawn {
  delayMs: number;
  /** Start it on the supervisor's own node from now on (the delivered runtime is given up). */
  fallBack: boolean;
  /** Early exits in a row so far, on the node the next worker runs on: the next decision's `earlyExits`. */
  earlyExits: number;
}

export function decideRespawn(policy: RespawnPolicy, earlyExits: number, exit: WorkerExit): Respawn {
  if (exit.ranMs >= policy.earlyMs) return { delayMs: policy.baseMs, fallBack: false, earlyExits: 0 };
  const inARow = earlyExits + 1;
  // The supervisor's node gets its own count: its first try comes after the base delay.
  if (exit.onRuntime && inARow >= policy.fallbackAfter) return { delayMs: policy.baseMs, fallBack: true, earlyExits: 0 };
  return { delayMs: Math.min(policy.maxMs, policy.baseMs * 2 ** (inARow - 1)), fallBack: false, earlyExits: inARow };
}
