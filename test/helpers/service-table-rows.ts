// Service-table rows for pure tests (the CLI's tables and dashboard, the gateway's publish tick): every field set, a
// running replica that is healthy and routable with some traffic, anything overridden per test.

import type { ReplicaTableRow, ServiceTableRow } from '../../daemon/api/service-table.ts';

export function replicaRow(replica: number, over: Partial<ReplicaTableRow> = {}): ReplicaTableRow {
  return {
    id: `web#${replica}`,
    replica,
    container: `c${replica}`,
    state: 'running',
    endpoint: { host: '127.0.0.1', port: 40000 + replica },
    endpoints: [],
    weight: 1,
    draining: false,
    health: { active: 'healthy', passive: 'ok', ejections: 0 },
    routable: true,
    inFlight: replica,
    latency: { ewmaMs: 2, p50Ms: 2.5, p95Ms: 12, p99Ms: 20 },
    requests: 600,
    errors: 6,
    errorRate: 0.01,
    requestsPerSec: 10 * replica,
    ...over,
  };
}

export function serviceRow(service: string, replicas: number, over: Partial<ServiceTableRow> = {}): ServiceTableRow {
  return {
    project: 'shop',
    service,
    strategy: 'round-robin',
    protocol: 'http',
    desired: replicas,
    ready: replicas,
    total: replicas,
    draining: 0,
    panic: false,
    publishedPorts: [{ published: 8080, target: 3000, hostIp: '127.0.0.1', protocol: 'tcp' }],
    replicas: Array.from({ length: replicas }, (_, i) => ({ ...replicaRow(i + 1), id: `${service}#${i + 1}`, container: `${service}-c${i + 1}` })),
    ...over,
  };
}
