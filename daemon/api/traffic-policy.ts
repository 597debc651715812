// Traffic policy of a service's x-cmesh (routes, splits, rate limits, breakers, retries, faults), normalized: the
// config loader produces it, the control API carries it inside MeshSpec, and mesh/policy compiles it for the proxy.

/** A header or query condition: an exact value, a regex over the value, or mere presence. */
export type ValueMatch = { exact: string } | { regex: string } | { present: true };

/** Every given condition must hold; an empty match matches every request. */
export interface RouteMatch {
  pathPrefix?: string;
  /** Exact path (without the query). */
  path?: string;
  pathRegex?: string;
  /** Upper-case method names; any of them. */
  methods?: string[];
  /** Lower-case header name → condition. */
  headers?: Record<string, ValueMatch>;
  query?: Record<string, ValueMatch>;
}

/** One weighted destination of a route: a service of the project, optionally one of its container ports. */
export interface RouteTarget {
  service: string;
  /** `service:port`; else the target's port with the listener's number, else its first. */
  port?: number;
  /** Relative weight (weights need not sum to 100); 0 keeps a target listed but idle. */
  weight: number;
}

export interface HeaderEdits {
  /** Lower-case name → value, replacing any the message carries. */
  set: Record<string, string>;
  /** Lower-case names to drop. */
  remove: string[];
}

export interface RateLimitSpec {
  requestsPerSecond: number;
  burst: number;
  /** What one bucket is kept for: `ip`, `route` or `header:<name>` (lower-case name). */
  key: string;
}

/** Per target service: overflow is answered 503 at once instead of queueing. Unset = no limit. */
export interface CircuitBreakerSpec {
  maxConnections?: number;
  maxPending?: number;
  maxRequests?: number;
}

export type RetryCondition = 'connect-failure' | 'reset' | 'timeout';

export interface RetrySpec {
  /** Failures worth another try: conditions, and upstream statuses (e.g. 503). */
  on: RetryCondition[];
  statuses: number[];
  attempts: number;
  perTryTimeoutMs?: number;
}

export interface FaultSpec {
  /** Percent of requests held for durationMs before they go on. */
  delay?: { percent: number; durationMs: number };
  /** Percent of requests answered `status` by the proxy, never reaching a replica. */
  abort?: { percent: number; status: number };
}

export interface TimeoutOverrides {
  connectMs?: number;
  requestMs?: number;
  idleMs?: number;
}

export interface RouteSpec {
  match: RouteMatch;
  /** Empty only for a redirect route. */
  to: RouteTarget[];
  stripPrefix?: string;
  rewrite?: { pathRegex: string; replace: string };
  requestHeaders?: HeaderEdits;
  responseHeaders?: HeaderEdits;
  redirect?: { to: string; status: number };
  rateLimit?: RateLimitSpec;
  retry?: RetrySpec;
  timeouts?: TimeoutOverrides;
  faults?: FaultSpec;
}

/** The policy keys of a service's x-cmesh; each absent when not configured. */
export interface TrafficPolicy {
  routes?: RouteSpec[];
  rateLimit?: RateLimitSpec;
  circuitBreaker?: CircuitBreakerSpec;
  retry?: RetrySpec;
  faults?: FaultSpec;
}

export const RETRY_CONDITIONS: readonly RetryCondition[] = ['connect-failure', 'reset', 'timeout'];
export const REDIRECT_STATUSES: readonly number[] = [301, 302, 303, 307, 308];
