// The service table's rows as the control API returns them (`cmesh services --json`): plain JSON, no classes. The
// mesh fills them in; they live in the contract so the CLI and the daemon's API don't depend on the mesh.

import type { ContainerState, Endpoint } from './engine.ts';
import type { ClientAuth } from './tls.ts';
import type { LbStrategy, Protocol } from './project.ts';
import type { CircuitBreakerSpec } from './traffic-policy.ts';

/** Active-check view: unknown = not probed yet (or no endpoint to probe). */
export type ActiveHealthState = 'healthy' | 'unhealthy' | 'unknown';
/** Passive view: ok, ejected (serving ejection time) or probing (time over, waiting for passing probes). */
export type PassiveHealthState = 'ok' | 'ejected' | 'probing';

export interface ReplicaHealthRow {
  active: ActiveHealthState;
  /** Last probe's or transition's reason, e.g. `http 503`, `timeout after 1000ms`. */
  activeReason?: string;
  passive: PassiveHealthState;
  /** Epoch ms the passive ejection ends, while ejected. */
  ejectedUntil?: number;
  /** Times this replica was ejected (the backoff multiplier). */
  ejections: number;
}

export interface LatencyRow {
  /** null until the first request. */
  ewmaMs: number | null;
  /** Over the last 60 s. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

export interface ReplicaTableRow {
  /** Pool id, e.g. `web#2`. */
  id: string;
  replica: number;
  container: string;
  state: ContainerState;
  /** Where the proxy sends this replica's traffic (primary port); null when nothing is published. */
  endpoint: { host: string; port: number } | null;
  endpoints: Endpoint[];
  weight: number;
  draining: boolean;
  health: ReplicaHealthRow;
  /** Whether a pick may return it right now (healthy, or any non-draining replica in panic mode). */
  routable: boolean;
  inFlight: number;
  latency: LatencyRow;
  /** Requests and errors over the last 60 s; errorRate = errors / requests (0 when idle). */
  requests: number;
  errors: number;
  errorRate: number;
  /** Over the last 10 complete seconds. */
  requestsPerSec: number;
  /** East-west (preview): the same replica as the project's gateway sees it; the fields above are the ingress path. */
  eastWest?: EastWestReplicaRow;
}

/** A replica's east-west traffic and health, measured by the gateway itself. */
export type EastWestReplicaRow = Pick<ReplicaTableRow, 'health' | 'routable' | 'inFlight' | 'latency' | 'requests' | 'errors' | 'errorRate' | 'requestsPerSec'>;

/** A service's east-west side: the ports callers reach it on by name through the gateway. */
export interface EastWestServiceRow {
  ports: { port: number; protocol: Protocol }[];
  /** Replicas the gateway routes to; null while no gateway reported (it is starting, or the daemon just restarted). */
  ready: number | null;
  /** Epoch ms of the gateway's last report. */
  reportedAt: number | null;
}

export interface PublishedPortRow {
  /** Host port the mesh proxy listens on. */
  published: number;
  /** Container port the replicas serve it on. */
  target: number;
  hostIp: string;
  protocol: 'tcp' | 'udp';
}

/** What a service's published ports carry, as declared: `h2c` and its alias `grpc` are HTTP over h2c replicas. */
export type ServiceProtocol = Protocol | 'h2c' | 'grpc';

export interface ServiceTableRow {
  project: string;
  service: string;
  strategy: LbStrategy;
  protocol: ServiceProtocol;
  /** Replica count the project asks for. */
  desired: number;
  /** Replicas passing health and taking traffic (not draining, not ejected). */
  ready: number;
  total: number;
  draining: number;
  /** True while fewer than half the serving replicas are healthy and the pool balances over all of them. */
  panic: boolean;
  publishedPorts: PublishedPortRow[];
  replicas: ReplicaTableRow[];
  /** Present when the service is meshed east-west (x-cmesh.east_west). */
  eastWest?: EastWestServiceRow;
  /** The service's circuit breaker as a route target, when it has a `circuit_breaker` or has refused requests. */
  breaker?: ServiceBreakerRow;
  /** `x-cmesh.tls`: its published ports speak HTTPS (client certificates as `client_auth` says). */
  tls?: { clientAuth: ClientAuth };
}

/** A target service's circuit breaker (per data-plane process): its limits, what it holds now, what it refused. */
export interface ServiceBreakerRow {
  /** The configured bounds (empty: none configured, shown because it refused requests under an earlier spec). */
  limits: CircuitBreakerSpec;
  /** Requests in flight, and pending (admitted, not yet sent to a replica). */
  requests: number;
  pending: number;
  /** Open upstream connections its requests made (idle keep-alive ones included). */
  connections: number;
  /** Requests refused with 503 overflow since the daemon started, by the bound that was reached. */
  overflow: { requests: number; pending: number; connections: number };
}

/** The proxy can route this service: a published port, or replicas with an endpoint to probe (`cmesh services`). */
export function isRouted(row: ServiceTableRow): boolean {
  return row.publishedPorts.length > 0 || row.replicas.some((r) => r.endpoints.length > 0);
}

/**
 * `up --wait`'s mesh condition over `services`: every routed one has all its replicas ready in the mesh. A service
 * the proxy never routes (or one absent from the table) has nothing to wait for here; the daemon's own wait proved it.
 * The CLI's verdict and the daemon's long-poll (GET /v1/services?…&readyWithinMs=) judge by this one rule.
 */
export function meshReady(rows: readonly ServiceTableRow[], services: readonly string[]): boolean {
  return services.every((s) => {
    const row = rows.find((r) => r.service === s);
    return row === undefined || !isRouted(row) || row.ready >= row.desired;
  });
}
