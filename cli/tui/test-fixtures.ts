// Test data for the dashboard's reducer and frame tests: service table rows, ps rows, daemon info.

import type { DaemonInfo, ReplicaStatus, ReplicaTableRow, ServiceTableRow } from '../../daemon/api/control.ts';

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

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

export function psRows(s: ServiceTableRow): ReplicaStatus[] {
  return s.replicas.map((r) => ({
    project: s.project,
    service: s.service,
    replica: r.replica,
    container: r.container,
    name: `shop-${s.service}-${r.replica}`,
    state: r.state,
    health: 'healthy',
    endpoints: [],
    restarts: r.replica - 1,
    image: 'echo',
    createdAt: T0 - 200_000,
    startedAt: T0 - 125_000,
  }));
}

export const info: DaemonInfo = {
  version: '0.1.0',
  pid: 4242,
  home: '/tmp/cmh',
  socket: '/tmp/cmh/daemon.sock',
  startedAt: T0 - 1000,
  engine: { ok: true, info: { version: '27.3.1', apiVersion: '1.47', os: 'linux', host: 'unix:///var/run/docker.sock' } },
  projects: 1,
};
