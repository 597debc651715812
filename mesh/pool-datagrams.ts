// A pool's view for one UDP container port: picks and follows replicas by their UDP endpoint for a datagram forwarder.

import type { Endpoint } from '../daemon/api/engine.ts';
import type { PickContext } from './balancer/types.ts';
import { type ReplicaEntry, udpEndpointFor } from './replica-entry.ts';
import type { DatagramPool } from './udp/forwarder.ts';
import type { Upstream } from './upstream-pool.ts';

/** What a datagram view reads of its pool; the pool builds one of these once, not per datagram. */
export interface DatagramSource {
  readonly service: string;
  /** The balancer's pick among routable replicas (after due ejection expiries), or undefined. */
  pickEntry(ctx?: PickContext): ReplicaEntry | undefined;
  /** The replica while it may still take traffic, else undefined. */
  routableEntry(id: string): ReplicaEntry | undefined;
  /** A refused datagram, told to the balancer only. */
  balancerResult(id: string, latencyMs: number, ok: boolean): void;
  upstreamHost(ep: Endpoint): string;
}

/**
 * Sessions are not in-flight requests: they take no part in drain waits or least-load counts (an idle session would
 * hold a drain for its whole grace period).
 */
export function datagramView(src: DatagramSource, containerPort: number): DatagramPool {
  const at = (r: ReplicaEntry | undefined): Upstream | undefined => {
    const ep = r && udpEndpointFor(r, containerPort);
    return r && ep ? { id: r.id, host: src.upstreamHost(ep), port: ep.hostPort } : undefined;
  };
  return {
    service: src.service,
    pick: (ctx) => at(src.pickEntry(ctx)),
    current: (id) => at(src.routableEntry(id)),
    // The balancer hears of a refused datagram; passive ejection does not, since only probes end an ejection
    // and a UDP-only replica has none.
    onResult: (id, ms, outcome) => src.balancerResult(id, ms, outcome === 'ok'),
  };
}
