// The retry-budget slot one exchange may hold: taken for a retry, given back when that retry's attempt ends.

import type { ProxyStats } from './context.ts';
import type { RetryBudget } from './retry.ts';

/**
 * An exchange creates one only when it first needs a slot, so the plain path allocates nothing. A slot is held only
 * while its retry runs, not for the whole response, so the budget counts retries in flight.
 */
export class RetrySlot {
  /** The attempt number the held slot covers (0 = none). */
  #heldFor = 0;
  readonly #budget: RetryBudget;
  readonly #stats: ProxyStats;

  constructor(budget: RetryBudget, stats: ProxyStats) {
    this.#budget = budget;
    this.#stats = stats;
  }

  isHeldFor(attempt: number): boolean {
    return this.#heldFor === attempt;
  }

  /** Takes a slot for `attempt` now if the budget has one; a refusal is counted as budget exhaustion. */
  tryTake(attempt: number): boolean {
    if (!this.#budget.tryAcquire()) {
      this.#stats.budgetExhausted++;
      return false;
    }
    this.#heldFor = attempt;
    return true;
  }

  /** Takes a slot for `attempt`, possibly after the budget's short wait; `grant(false)` was counted as exhaustion. */
  take(attempt: number, grant: (ok: boolean) => void): void {
    this.#budget.acquire((ok) => {
      if (!ok) {
        this.#stats.budgetExhausted++;
        grant(false);
        return;
      }
      this.#heldFor = attempt;
      grant(true);
    });
  }

  /**
   * Runs `go` once a slot covers `attempt`: held already, or granted now or after the budget's wait; `refused` when
   * the budget says no. If the exchange is `gone` by the time a slot is granted, the slot goes straight back.
   */
  retry(attempt: number, go: () => void, refused: () => void, gone: () => boolean): void {
    if (this.isHeldFor(attempt)) {
      go();
      return;
    }
    this.take(attempt, (ok) => {
      if (!ok) refused();
      else if (gone()) this.release();
      else go();
    });
  }

  /** Every attempt reports its end; the slot is given back when it covered that attempt. */
  attemptEnded(attempt: number): void {
    if (this.#heldFor !== attempt) return;
    this.#heldFor = 0;
    this.#budget.release();
  }

  /** Gives back a slot still held (the exchange ended before its retry did). */
  release(): void {
    if (this.#heldFor === 0) return;
    this.#heldFor = 0;
    this.#budget.release();
  }
}
