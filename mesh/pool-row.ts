// Builds a pool's service-table row: the JSON view of replicas, health, load and latency for `cmesh services`.

import { bindAddress } from '../daemon/api/bind-address.ts';
import type { Endpoint } from '../daemon/api/engine.ts';
import type { TlsSpec } from '../daemon/api/tls.ts';
import type { LbStrategy, PortMapping, Protocol } from '../daemon/api/project.ts';
import type { ReplicaTableRow, ServiceTableRow } from '../daemon/api/service-table.ts';
import { replicaHost } from './replica-entry.ts';
import type { StatsSnapshot } from './replica-stats.ts';

/** The slice of a replica the row needs (the pool's ReplicaEntry fits). */
export interface RowReplica {
  id: string;
  replica: number;
  container: string;
  endpoints: Endpoint[];
  state: ReplicaTableRow['state'];
  draining: boolean;
  active: 'healthy' | 'unhealthy' | 'unknown';
  activeReason?: string;
  inflight: number;
  stats: { snapshot(): StatsSnapshot };
}

export interface RowPool {
  project: string;
  service: string;
  strategy: LbStrategy;
  desired: number;
  ports: PortMapping[];
  mesh: { protocol?: Protocol; upstream?: 'h2c'; protocolAlias?: 'grpc'; bind?: string; tls?: TlsSpec };
}

export interface RowAccess<R> {
  endpointFor(r: R): Endpoint | undefined;
  passive(id: string): { state: 'ok' | 'ejected' | 'probing'; ejections: number; untilMs?: number };
  routable(id: string): boolean;
  /** Serving and passing health: what `ready` counts. */
  healthy(r: R): boolean;
  weight(r: R): number;
  panic: boolean;
}

export function buildServiceRow<R extends RowReplica>(pool: RowPool, replicas: R[], access: RowAccess<R>): ServiceTableRow {
  const sorted = [...replicas].sort((a, b) => a.replica - b.replica);
  const rows = sorted.map((r) => replicaRow(r, access));
  return {
    project: pool.project,
    service: pool.service,
    strategy: pool.strategy,
    protocol: pool.mesh.protocolAlias ?? pool.mesh.upstream ?? pool.mesh.protocol ?? 'http',
    desired: pool.desired,
    ready: sorted.filter((r) => access.healthy(r)).length,
    total: rows.length,
    draining: rows.filter((r) => r.draining).length,
    panic: access.panic,
    publishedPorts: pool.ports.flatMap((p) =>
      // The address the listener binds (daemon/mesh-ports.ts uses the same rule).
      p.published === undefined ? [] : [{ published: p.published, target: p.target, hostIp: bindAddress(p, pool.mesh), protocol: p.protocol }],
    ),
    replicas: rows,
    ...(pool.mesh.tls === undefined ? {} : { tls: { clientAuth: pool.mesh.tls.clientAuth } }),
  };
}

function replicaRow<R extends RowReplica>(r: R, access: RowAccess<R>): ReplicaTableRow {
  const ep = access.endpointFor(r);
  const passive = access.passive(r.id);
  const s = r.stats.snapshot();
  const health: ReplicaTableRow['health'] = { active: r.active, passive: passive.state, ejections: passive.ejections };
  if (r.activeReason !== undefined) health.activeReason = r.activeReason;
  if (passive.untilMs !== undefined) health.ejectedUntil = passive.untilMs;
  return {
    id: r.id,
    replica: r.replica,
    container: r.container,
    state: r.state,
    endpoint: ep ? { host: replicaHost(ep), port: ep.hostPort } : null,
    endpoints: r.endpoints,
    weight: access.weight(r),
    draining: r.draining,
    health,
    routable: access.routable(r.id),
    inFlight: r.inflight,
    latency: { ewmaMs: s.ewmaMs, p50Ms: s.p50Ms, p95Ms: s.p95Ms, p99Ms: s.p99Ms },
    requests: s.requests,
    errors: s.errors,
    errorRate: s.errorRate,
    requestsPerSec: s.requestsPerSec,
  };
}
