// Balancer factory: the one place that maps an `lb` strategy name to its implementation.

import type { LbStrategy } from '../../daemon/api/project.ts';
import { EwmaBalancer, type EwmaOptions } from './ewma.ts';
import type { BalancerOptions } from './member-set.ts';
import { P2cBalancer } from './p2c.ts';
import { RandomBalancer } from './random.ts';
import { RingHashBalancer, type RingHashOptions } from './ring-hash.ts';
import { RoundRobinBalancer } from './round-robin.ts';
import type { Balancer } from './types.ts';
import { WeightedBalancer } from './weighted.ts';

export type { BalancerOptions } from './member-set.ts';
export { EwmaBalancer, P2cBalancer, RandomBalancer, RingHashBalancer, RoundRobinBalancer, WeightedBalancer };

/** Options for any strategy; each one reads the fields it knows. */
export type CreateBalancerOptions = BalancerOptions &
  EwmaOptions &
  RingHashOptions & {
    /** Round-robin: start at a random member instead of member 0. */
    randomStart?: boolean;
  };

export const DEFAULT_STRATEGY: LbStrategy = 'p2c';

export function createBalancer(strategy: LbStrategy = DEFAULT_STRATEGY, opts: CreateBalancerOptions = {}): Balancer {
  switch (strategy) {
    case 'round-robin':
      return new RoundRobinBalancer(opts);
    case 'random':
      return new RandomBalancer(opts);
    case 'weighted':
      return new WeightedBalancer(opts);
    case 'p2c':
      return new P2cBalancer(opts);
    case 'ewma':
      return new EwmaBalancer(opts);
    case 'ring-hash':
      return new RingHashBalancer(opts);
    default: {
      // A strategy added to LbStrategy without a case here is a compile error, not a silent p2c.
      const never: never = strategy;
      throw new Error(`unknown lb strategy ${String(never)}`);
    }
  }
}
