// Random: each pick draws a member with probability proportional to its weight (uniform when weights are equal).

import { MemberSetBalancer } from './member-set.ts';
import type { PickContext } from './types.ts';

export class RandomBalancer extends MemberSetBalancer {
  readonly strategy = 'random';

  pick(ctx?: PickContext): string | undefined {
    const c = this.candidates(ctx);
    if (c.length === 0) return undefined;
    const total = c.reduce((s, m) => s + m.weight, 0);
    // All-zero weights would make every member unpickable; treat them as equal instead of failing the request.
    if (total <= 0) return c[this.randomIndex(c.length)]!.id;
    let r = this.rand() * total;
    for (const m of c) {
      r -= m.weight;
      if (r < 0) return m.id;
    }
    return c[c.length - 1]!.id;
  }
}
