// What an HttpAttempt needs of the client request it serves (the Exchange), kept apart so the two do not import each
// other; and the coded errors attempts fail with.

import type { MeshSpec } from '../../daemon/api/project.ts';
import type { HeaderEdits } from '../../daemon/api/traffic-policy.ts';
import type { Upstream, UpstreamPool } from '../upstream-pool.ts';
import type { ClientSide, ExchangeView } from './client-side.ts';
import type { AttemptStats, ProxyContext } from './context.ts';
import type { ProxyError } from './error-responses.ts';
import type { RequestBody } from './request-body.ts';
import type { AttemptFailure } from './retry.ts';
import type { ConnectionGate } from './upstream-connection.ts';

export function codedError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** The client request an attempt belongs to, as the attempt sees it (Exchange). */
export interface AttemptOwner extends ExchangeView {
  readonly ctx: ProxyContext;
  readonly conn: ClientSide;
  /** The upstream request head without its blank line. */
  readonly headBase: string;
  /** headBase with its blank line (sent as it is by a bodiless request that needs no Host added). */
  readonly headWire: string;
  /** Each attempt names its replica in a Host field (the client sent none). */
  readonly needsHost: boolean;
  readonly body: RequestBody | null;
  /** The target service's pool and timeouts (a route may send the request to another service than the listener's). */
  readonly service: string;
  readonly pool: UpstreamPool;
  readonly timeouts: MeshSpec['timeouts'];
  readonly responseEdits: HeaderEdits | undefined;
  /** Response body bytes forwarded to the client. */
  bytesOut: number;
  /** Is this a status the exchange retries on (502/503 unless `retry.on` says otherwise)? */
  retryableStatus(status: number): boolean;
  /** A replica answered a retryable status: discard it and retry? */
  retryOnStatus(status: number): boolean;
  /** The attempt delivered no response; returns what the exchange does next. */
  attemptFailed(attempt: { readonly upstream: Upstream }, failure: AttemptFailure, status?: number, retryAcquired?: boolean): AttemptStats['next'];
  /** Every attempt reports its end (by its number). */
  attemptEnded(n: number): void;
  /** The target service's circuit breaker: counts (and may refuse) the upstream connections its requests open. */
  readonly connectionGate: ConnectionGate | undefined;
  /** Answers with the proxy's own error. */
  fail(e: ProxyError): void;
}
