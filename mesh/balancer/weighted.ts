// Smooth weighted round-robin (nginx): interleaves members by weight instead of sending bursts to the heaviest.

import { MemberSetBalancer } from './member-set.ts';
import type { PickContext } from './types.ts';

export class WeightedBalancer extends MemberSetBalancer {
  readonly strategy = 'weighted';

  pick(ctx?: PickContext): string | undefined {
    const c = this.candidates(ctx);
    if (c.length === 0) return undefined;
    const allZero = c.every((m) => m.weight <= 0);
    // Every candidate gains its weight; the leader is chosen and pays back the total, so over sum(w) picks each
    // member is chosen exactly w times, spread out (weights 5,1,1 give a a b a c a a, not a a a a a b c).
    let total = 0;
    let best: (typeof c)[number] | undefined;
    for (const m of c) {
      const w = allZero ? 1 : m.weight;
      m.current += w;
      total += w;
      if (!best || m.current > best.current) best = m;
    }
    if (!best) return undefined;
    best.current -= total;
    return best.id;
  }
}
