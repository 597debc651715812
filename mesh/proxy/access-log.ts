// One JSON line per proxied request, handed to a callback (the daemon routes it into the DaemonEvent log stream).

export interface AccessLogEntry {
  /** Epoch ms when the request arrived. */
  time: number;
  service: string;
  clientIp: string;
  method: string;
  /** Request target as received (origin-form path and query). */
  path: string;
  /** Status sent to the client; 0 when the client went away before any. */
  status: number;
  durationMs: number;
  /** Replica that produced the response (the last one tried), if any. */
  upstream?: string;
  /** Number of upstream attempts (1 = no retry). */
  attempts: number;
  /** `x-cmesh-error` code when the proxy answered itself, or `client-abort`. */
  error?: string;
  bytesOut: number;
  /** The route that matched (`#<index> <match>`) when the listener has a route table. */
  route?: string;
  /** The service the request was sent to, when a route sent it to another service than the listener's. */
  target?: string;
  /** Subject of the client certificate the cmesh CA verified (`x-cmesh.tls.client_auth`). */
  clientCert?: string;
  /** `h2` for a request that came over HTTP/2 (absent: HTTP/1.x). */
  protocol?: 'h2';
  /** The `grpc-status` the replica answered (trailers, or a trailers-only response). */
  grpcStatus?: string;
}

export type AccessLogSink = (line: string, entry: AccessLogEntry) => void;

/** Serialises an entry as one JSON line (no trailing newline); field order is stable for grepping. */
export function formatAccessLog(entry: AccessLogEntry): string {
  return JSON.stringify(entry);
}

/** A matched route as the log names it: `#<index> <match>`; computed only when an entry is written. */
export function routeLabel(route: { index: number; label: string } | undefined): string | undefined {
  return route === undefined ? undefined : `#${route.index} ${route.label}`;
}

/** What the access log reads of a finished exchange (Exchange fits). */
export interface LoggedExchange {
  /** performance.now() when the request arrived. */
  readonly startedAt: number;
  readonly method: string;
  readonly url: string;
  readonly headSent: boolean;
  readonly status: number;
  readonly attempts: number;
  readonly aborted: boolean;
  readonly bytesOut: number;
  /** Where the request went: the listener's service, or the target a route picked. */
  readonly service: string;
}

/**
 * The entry for one exchange on a listener of `listenerService`; `upstream` is the last replica tried, `errorCode`
 * the proxy's own answer code, `route` the route that matched.
 */
export function accessLogEntry(
  ex: LoggedExchange,
  listenerService: string,
  clientIp: string,
  upstream: string | undefined,
  errorCode: string | undefined,
  route: string | undefined,
): AccessLogEntry {
  // Built field by field in the logged order (no spread temporaries: this runs for every request the metrics count).
  const entry: AccessLogEntry = {
    time: Math.round(performance.timeOrigin + ex.startedAt),
    service: listenerService,
    clientIp,
    method: ex.method,
    path: ex.url,
    status: ex.headSent ? ex.status : 0,
    durationMs: Math.round((performance.now() - ex.startedAt) * 1000) / 1000,
  } as AccessLogEntry;
  if (upstream !== undefined) entry.upstream = upstream;
  entry.attempts = ex.attempts;
  const error = ex.aborted ? 'client-abort' : errorCode;
  if (error !== undefined) entry.error = error;
  entry.bytesOut = ex.bytesOut;
  if (route !== undefined) entry.route = route;
  if (ex.service !== listenerService) entry.target = ex.service;
  return entry;
}

/**
 * Counts one finished request without an entry: `service` is the listener's, `target` the service a route sent it
 * to (when another), `status` 0 when no response head was sent, `error` the proxy's own answer code or
 * `client-abort`. Positional, so the hot path allocates nothing to call it.
 */
export type RequestCounter = (
  service: string,
  upstream: string | undefined,
  method: string,
  status: number,
  durationMs: number,
  route: string | undefined,
  target: string | undefined,
  error: string | undefined,
) => void;

/** Hands a finished request to the request metrics and the access log, whichever listens (HTTP/2 streams). */
export function emitRequest(sinks: { onRequest: ((e: AccessLogEntry) => void) | undefined; onAccessLog: AccessLogSink | undefined }, entry: AccessLogEntry): void {
  sinks.onRequest?.(entry);
  sinks.onAccessLog?.(formatAccessLog(entry), entry);
}
