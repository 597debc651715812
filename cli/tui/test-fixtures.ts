// Test data for the dashboard's reducer and frame tests: service table rows, ps rows, daemon info.

import type { DaemonInfo, ReplicaStatus, ServiceTableRow } from '../../daemon/api/control.ts';

export { replicaRow, serviceRow } from '../../test/helpers/service-table-rows.ts';

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

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
