// Power of two choices, least outstanding requests: sample two distinct members, send to the less loaded one.

import { MemberSetBalancer, type MemberState } from './member-set.ts';
import type { PickContext } from './types.ts';

/** Two distinct random candidates (or the only one); shared by p2c and peak-EWMA. */
export function sampleTwo(
  c: readonly MemberState[],
  randomIndex: (n: number) => number,
): [MemberState, MemberState | undefined] {
  if (c.length === 1) return [c[0]!, undefined];
  const i = randomIndex(c.length);
  // Draw the second from the n-1 others so the pair is always distinct without rejection loops.
  let j = randomIndex(c.length - 1);
  if (j >= i) j++;
  return [c[i]!, c[j]!];
}

export class P2cBalancer extends MemberSetBalancer {
  readonly strategy = 'p2c';

  pick(ctx?: PickContext): string | undefined {
    const c = this.candidates(ctx);
    if (c.length === 0) return undefined;
    const [a, b] = sampleTwo(c, this.pickIndex);
    if (!b) return a.id;
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
