// A host port range (`"8000-8010:3000"`) is "any free port in the range": the proxy takes the first free one at up.
// What `cmesh port` and `cmesh services` show is the port it took, as `docker compose port`/`ps` show the engine's pick.

import type { ServiceTableRow } from './api/service-table.ts';
import type { PortBinding } from './mesh-ports.ts';

/** A published mapping as the listeners know it: `host` is the address bound (hostIp, else x-cmesh bind, else loopback). */
export interface PublishedMapping {
  service: string;
  host: string;
  target: number;
  protocol: 'tcp' | 'udp';
  published: number;
}

/** The range mapping a listener was opened for: same service, container port and protocol, bound within the range. */
function inRange(b: PortBinding, service: string, target: number, protocol: 'tcp' | 'udp', published: number): boolean {
  return b.service === service && b.target === target && b.protocol === protocol && b.portEnd !== undefined && b.port >= published && b.port <= b.portEnd;
}

/** The port a published mapping is bound on: the listener's pick for a range, else `published` itself. */
export function boundPort(bindings: readonly PortBinding[], m: PublishedMapping): number {
  const b = bindings.find((x) => x.host === m.host && inRange(x, m.service, m.target, m.protocol, m.published));
  return b?.port ?? m.published;
}

/** Service-table rows with each ranged published port replaced by the port its listener took. */
export function withBoundPorts(rows: ServiceTableRow[], bindings: readonly PortBinding[]): ServiceTableRow[] {
  if (!bindings.some((b) => b.portEnd !== undefined)) return rows;
  return rows.map((row) => ({
    ...row,
    publishedPorts: row.publishedPorts.map((p) => {
      const b = bindings.find((x) => x.project === row.project && inRange(x, row.service, p.target, p.protocol, p.published));
      return b ? { ...p, published: b.port } : p;
    }),
  }));
}
