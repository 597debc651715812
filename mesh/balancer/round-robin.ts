// Round-robin: a ring cursor S(n+1) = (S(n)+1) mod N that steps over members a pick may not use.

import { type BalancerOptions, MemberSetBalancer } from './member-set.ts';
import type { PickContext } from './types.ts';

export class RoundRobinBalancer extends MemberSetBalancer {
  readonly strategy = 'round-robin';
  // Index of the last member returned; -1 so that the first pick is member 0 unless the start is randomized.
  private cursor = -1;

  constructor(opts: BalancerOptions & { randomStart?: boolean } = {}) {
    super(opts);
    // Several proxies restarting together would all hit member 0 first; a random start spreads them.
    if (opts.randomStart) this.cursor = Math.floor(this.rand() * 1e9);
  }

  pick(ctx?: PickContext): string | undefined {
    const n = this.members.length;
    if (n === 0) return undefined;
    const usable = this.usableHealth();
    const exclude = ctx?.exclude;
    // Walk at most one full turn of the ring from S+1; the cursor lands on the member returned.
    for (let step = 1; step <= n; step++) {
      const i = (((this.cursor + step) % n) + n) % n;
      const m = this.members[i]!;
      if (usable(m) && !exclude?.has(m.id)) {
        this.cursor = i;
        return m.id;
      }
    }
    return undefined;
  }
}
