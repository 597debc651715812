// Power of two choices, least outstanding requests: sample two distinct members, send to the less loaded one.

import { MemberSetBalancer, type MemberState } from './member-set.ts';
import type { PickContext } from './types.ts';

/**
 * The second of two distinct candidates: `j`, drawn from the n-1 indices other than the first's `i`, mapped past it
 * (no rejection loop). Shared by p2c and peak-EWMA; indices, not a pair array, since every request picks.
 */
export function otherIndex(i: number, j: number): number {
  return j >= i ? j + 1 : j;
}

export class P2cBalancer extends MemberSetBalancer {
  readonly strategy = 'p2c';

  pick(ctx?: PickContext): string | undefined {
    const c = this.candidates(ctx);
    if (c.length === 0) return undefined;
    if (c.length === 1) return c[0]!.id;
    const i = this.randomIndex(c.length);
    const a = c[i]!;
    const b = c[otherIndex(i, this.randomIndex(c.length - 1))]!;
    const la = this.load(a);
    const lb = this.load(b);
    if (la !== lb) return la < lb ? a.id : b.id;
    // Tie on load: a coin flip. Preferring the one that "answered faster lately" starves the other one under
    // sequential traffic (always a tie at 0 in flight): it never gets the request that would update its latency.
    // Latency-aware picking is the `ewma` strategy, whose estimates decay with idle time.
    return this.rand() < 0.5 ? a.id : b.id;
  }

  // Outstanding requests per unit of weight, so a weight-2 member carries twice the in-flight of a weight-1 one.
  private load(m: MemberState): number {
    return (m.inflight + 1) / (m.weight > 0 ? m.weight : 1);
  }

}
