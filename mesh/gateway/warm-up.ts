// When a new gateway worker may take over from the one serving: not merely when its first table is applied, but once
// every service that has a running replica with an address has a healthy one here. A worker seeds a replica's health
// from the daemon's table, and a daemon that has just restarted reports its replicas unhealthy until its own probes rise;
// a worker ready before its probes rose answered 503 for a few hundred ms after a swap (the supervisor hand-over e2e).

import type { ServiceTableRow } from '../../daemon/api/service-table.ts';

/** Past this the worker reports ready anyway: the supervisor's own ready timeout (15 s) must not give it up. */
export const WARM_UP_BOUND_MS = 5000;
export const WARM_UP_POLL_MS = 20;

/** Services that could be served (a running replica with an address) but have no routable replica here yet. */
export function coldServices(rows: readonly ServiceTableRow[]): string[] {
  return rows
    .filter((s) => s.replicas.some((r) => r.state === 'running' && r.endpoints.length > 0 && !r.draining))
    .filter((s) => !s.replicas.some((r) => r.routable))
    .map((s) => s.service);
}

/** Resolves once nothing is cold, or after `boundMs`; the result names what was still cold then. */
export async function warmedUp(rows: () => readonly ServiceTableRow[], signal: AbortSignal, boundMs = WARM_UP_BOUND_MS): Promise<string[]> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const cold = coldServices(rows());
    if (cold.length === 0 || Date.now() >= deadline || signal.aborted) return cold;
    await new Promise((resolve) => setTimeout(resolve, WARM_UP_POLL_MS));
  }
}
