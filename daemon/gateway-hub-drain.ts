// When a replica being drained is done at the east-west side: judged over EVERY gateway process of the project that
// reports, not one per gateway index. While a gateway is replaced start-first the old container and its `-next` serve
// side by side (same index); the old one still holds requests to the replica while the new one, the newer report, has
// none, so reading only the newest report per index let a stop cut the old gateway's requests off.

import type { GatewayStats } from './api/gateway-control.ts';

/**
 * A report older than this (now − time) is from a gateway process that stopped reporting while its socket stays
 * open (frozen, or a worker being retired): it no longer holds a drain up. Three of the gateway's 1 s stats intervals.
 */
export const DRAIN_REPORT_STALE_MS = 3000;

/**
 * True once at least one report came in since `since`, and every gateway process that reported recently has
 * reported since `since` showing the replica either unknown to it or draining with nothing in flight (the sum of
 * in-flight requests over them is 0).
 */
export function drainedEverywhere(reports: readonly GatewayStats[], id: string, since: number, now: number): boolean {
  const recent = reports.filter((r) => r.time >= since || now - r.time <= DRAIN_REPORT_STALE_MS);
  if (!recent.some((r) => r.time >= since)) return false;
  return recent.every((r) => {
    if (r.time < since) return false;
    const row = r.services.flatMap((s) => s.replicas).find((x) => x.id === id);
    return !row || (row.draining && row.inFlight === 0);
  });
}
