// The Upstream a ServicePool hands out: the address, plus direct references to what each attempt's start and result
// update (the replica's entry, its balancer member, its passive-health record), so they need no lookup by id.

import type { MemberHandle } from './balancer/types.ts';
import type { PassiveHandle } from './health/passive.ts';
import type { ReplicaEntry } from './replica-entry.ts';
import type { Upstream } from './upstream-pool.ts';

export class PooledUpstream implements Upstream {
  constructor(
    readonly id: string,
    readonly host: string,
    readonly port: number,
    /** The pool that made it: another pool's upstream (or a plain object) goes the lookup way. */
    readonly owner: object,
    /**
     * The owner's membership generation when it was made: the references hold while it is current. Any change of
     * members, endpoints, ports, drain or balancer bumps it, and a result after that looks its replica up by id.
     */
    readonly generation: number,
    readonly entry: ReplicaEntry,
    readonly member: MemberHandle,
    /** undefined for a replica passive health does not track (draining when it was made). */
    readonly passive: PassiveHandle | undefined,
  ) {}
}
