// What `cmesh routes` shows of a data plane's policy state, made the same way by the daemon (published ports) and by
// an east-west gateway (calls by name, sent in its stats): route rows with their counters, and breakers.

import type { BreakerView, RouteRowView } from '../../daemon/api/policy-control.ts';
import type { CircuitBreakerSpec } from '../../daemon/api/traffic-policy.ts';
import type { ProjectPolicyState } from './project-state.ts';
import { type RouteTable, targetName } from './route-table.ts';

export function routeRows(table: RouteTable | undefined): RouteRowView[] {
  return (table?.routes ?? []).map((r) => ({
    index: r.index,
    match: r.label,
    to: r.spec.to.map((t) => {
      const name = targetName(t);
      return { target: name, weight: t.weight, requests: r.counters.byTarget[name] ?? 0 };
    }),
    ...(r.spec.redirect === undefined ? {} : { redirect: `${r.spec.redirect.status} ${r.spec.redirect.to}` }),
    requests: r.counters.requests,
    rateLimited: r.counters.rateLimited,
  }));
}

/** Breakers worth showing: configured ones (`limitsOf`), and any that refused a request. */
export function breakerViews(state: ProjectPolicyState, limitsOf: (service: string) => CircuitBreakerSpec | undefined): BreakerView[] {
  return [...state.breakers]
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([service, b]) => {
      const s = b.stats();
      const limits = limitsOf(service);
      if (limits === undefined && s.overflow.requests + s.overflow.pending + s.overflow.connections === 0) return [];
      return [{ service, limits: { ...limits }, requests: s.requests, pending: s.pending, connections: s.connections, overflow: { ...s.overflow } }];
    });
}
