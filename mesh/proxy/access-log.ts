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
}

export type AccessLogSink = (line: string, entry: AccessLogEntry) => void;

/** Serialises an entry as one JSON line (no trailing newline); field order is stable for grepping. */
export function formatAccessLog(entry: AccessLogEntry): string {
  return JSON.stringify(entry);
}
