// Weighted split between a route's targets: smooth weighted round-robin (nginx's), so a 90/10 split is exact over
// every 10 requests and interleaved (never nine in a row to one side), deterministic for tests and across restarts.

export class SmoothWeighted {
  readonly #weights: number[];
  readonly #current: number[];
  readonly #total: number;

  /** Weights are relative and may be fractional; a 0 weight is never picked. At least one must be positive. */
  constructor(weights: readonly number[]) {
    this.#weights = [...weights];
    this.#current = weights.map(() => 0);
    this.#total = weights.reduce((a, b) => a + b, 0);
    if (!(this.#total > 0)) throw new Error('a weighted split needs a positive weight');
  }

  /** Index of the next target. */
  pick(): number {
    const w = this.#weights;
    const cur = this.#current;
    if (w.length === 1) return 0;
    let best = 0;
    for (let i = 0; i < w.length; i++) {
      cur[i]! += w[i]!;
      if (cur[i]! > cur[best]!) best = i;
    }
    cur[best]! -= this.#total;
    return best;
  }
}
