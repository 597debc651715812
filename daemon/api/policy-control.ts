// Control API contract of the traffic policy: `cmesh fault` (POST /v1/projects/:name/fault) and `cmesh routes`
// (GET /v1/projects/:name/routes).

import type { ServiceBreakerRow } from './service-table.ts';
import type { FaultSpec } from './traffic-policy.ts';

/** `x-cmesh-error` codes of the answers the proxy gives because of its traffic policy (not a failing replica). */
export const POLICY_REASONS: ReadonlySet<string> = new Set(['rate-limited', 'overflow', 'fault-injected', 'no-route']);

/** POST /v1/projects/:name/fault: set run-time faults of a service, or clear them (`faults` absent). */
export interface FaultRequest {
  service: string;
  faults?: FaultSpec;
}

export interface FaultResponse {
  service: string;
  /** The faults now in effect for the service (run-time over the file's); absent when none. */
  faults?: FaultSpec;
  source: 'runtime' | 'file' | 'none';
}

export interface RouteRowView {
  index: number;
  /** The match in words, `*` for the catch-all. */
  match: string;
  /** Each target with its weight and the requests sent to it. */
  to: { target: string; weight: number; requests: number }[];
  redirect?: string;
  requests: number;
  rateLimited: number;
}

/** One published HTTP port and its route table (empty: the port balances over its own service). */
export interface RouteTableView {
  service: string;
  host: string;
  port: number;
  routes: RouteRowView[];
}

/** A target service's circuit breaker: what is in flight now, and what it refused since the daemon started. */
export interface BreakerView extends ServiceBreakerRow {
  service: string;
}

/** GET /v1/projects/:name/routes */
export interface RoutesView {
  ports: RouteTableView[];
  faults: FaultResponse[];
  /** Services with a `circuit_breaker`, or whose breaker has refused requests. */
  breakers: BreakerView[];
  /**
   * Calls by name, as the project's gateways last reported them (their own counters and breakers: each data-plane
   * process keeps its own). `ports` have host `east-west` and the container port. Absent without east-west.
   */
  eastWest?: { ports: RouteTableView[]; breakers: BreakerView[]; reportedAt: number };
}
