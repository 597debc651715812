// One coarse clock and timeout sweep for every proxy in the process, so no request arms or clears a timer of its own.

/** How often deadlines are checked; timeouts fire up to this late (they are seconds long by default). */
export const TICK_MS = 100;

export interface Sweeper {
  /** Called every tick with the coarse clock (performance.now() at the tick). */
  sweep(now: number): void;
}

const sweepers = new Set<Sweeper>();
let timer: NodeJS.Timeout | undefined;

/**
 * performance.now() as of the last tick: free to read on the hot path, at most TICK_MS stale. Stamps taken from it
 * (idle since, head started at) are compared against it, so the staleness cancels out except for one tick.
 */
export const clock = { now: performance.now() };

function tick(): void {
  const now = performance.now();
  clock.now = now;
  for (const s of sweepers) s.sweep(now);
}

export function addSweeper(s: Sweeper): void {
  sweepers.add(s);
  clock.now = performance.now();
  if (timer === undefined) {
    timer = setInterval(tick, TICK_MS);
    // Timeouts matter only while something else keeps the process alive.
    timer.unref();
  }
}

export function removeSweeper(s: Sweeper): void {
  sweepers.delete(s);
  if (sweepers.size === 0 && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
  }
}
