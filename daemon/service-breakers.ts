// Joins each target service's circuit breaker (traffic policy, mesh-policy.ts) into its service-table row, so
// `cmesh services` shows limits, current counts and overflow next to the replicas they protect.

import type { BreakerView } from './api/policy-control.ts';
import type { ServiceTableRow } from './api/service-table.ts';

/** Rows of services without a breaker worth showing are returned as they are (no `breaker` field). */
export function withBreakers(rows: ServiceTableRow[], breakers: { project: string; breakers: BreakerView[] }[]): ServiceTableRow[] {
  const byKey = new Map<string, BreakerView>();
  for (const p of breakers) for (const b of p.breakers) byKey.set(`${p.project}/${b.service}`, b);
  if (byKey.size === 0) return rows;
  return rows.map((row) => {
    const b = byKey.get(`${row.project}/${row.service}`);
    if (b === undefined) return row;
    const { service: _service, ...breaker } = b;
    return { ...row, breaker };
  });
}
