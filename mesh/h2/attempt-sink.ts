// One attempt of a StreamExchange at one replica, as the pool and the metrics see it: onStart, then exactly one
// onResult (latency to the response head) and one attempt report, however the call ends.

import type { OutgoingHttpHeaders } from 'node:http2';
import type { ProxyContext } from '../proxy/context.ts';
import { type AttemptPhase, HEADERS_TIMEOUT } from '../proxy/retry.ts';
import type { AttemptOutcome, Upstream, UpstreamPool } from '../upstream-pool.ts';
import type { CallSink } from './call.ts';

type Next = 'failover' | 'retry' | 'respond' | undefined;

export interface AttemptScope {
  ctx: ProxyContext;
  pool: UpstreamPool;
  /** The service the stream went to (a route's target, or the listener's). */
  service: string;
  up: Upstream;
  /** 1-based attempt number within the stream. */
  n: number;
  /** The status sent to the client so far (0 = none). */
  status(): number;
  /** The attempt is over (the exchange gives back a retry-budget slot it held for it). */
  ended(n: number): void;
  /** `retry.per_try_timeout`: no response head within this fails the try as a timeout (after `cancel`). */
  perTryMs?: number | undefined;
  cancel(): void;
}

export interface AttemptHandlers {
  /** False: the response was discarded for a retry (a 502/503 not yet forwarded). */
  response(status: number, headers: OutgoingHttpHeaders): boolean;
  data(chunk: Buffer): boolean;
  end(trailers: OutgoingHttpHeaders | undefined): void;
  /** Decides what follows the failure (failover, retry, the proxy's answer). */
  failed(phase: AttemptPhase, outcome: AttemptOutcome, code: string | undefined): Next;
}

/** The sink, and how the stream ends an attempt it stops itself (the call then tells the sink nothing more). */
export interface AttemptSink extends CallSink {
  /** The client left (`ok`: the replica is not blamed) or the stream's deadline passed before the head (`timeout`). */
  abandon(outcome: 'ok' | 'timeout'): void;
}

export function attemptSink(a: AttemptScope, on: AttemptHandlers): AttemptSink {
  a.pool.onStart(a.up);
  const t0 = performance.now();
  let latencyMs = -1;
  let ended = false;
  const perTry = a.perTryMs === undefined ? undefined : setTimeout(() => timedOut(), a.perTryMs);
  const end = (outcome: AttemptOutcome, next?: Next, code?: string): void => {
    if (ended) return;
    ended = true;
    clearTimeout(perTry);
    const ms = latencyMs >= 0 ? latencyMs : performance.now() - t0;
    a.pool.onResult(a.up, ms, outcome);
    a.ended(a.n);
    const report = a.ctx.onAttempt;
    if (report === undefined) return;
    const status = a.status();
    report({ service: a.service, upstream: a.up.id, attempt: a.n, outcome, latencyMs: ms, ...(status ? { status } : {}), ...(code ? { code } : {}), ...(next ? { next } : {}) });
  };
  const timedOut = (): void => {
    if (ended || latencyMs >= 0) return;
    a.cancel();
    end('timeout', on.failed('sent', 'timeout', HEADERS_TIMEOUT), HEADERS_TIMEOUT);
  };
  return {
    response: (status, headers) => {
      latencyMs = performance.now() - t0;
      clearTimeout(perTry);
      if (!on.response(status, headers)) end('http-5xx', 'retry', `HTTP ${status}`);
    },
    data: on.data,
    end: (trailers) => {
      end(a.status() >= 500 ? 'http-5xx' : 'ok');
      on.end(trailers);
    },
    failed: (phase, outcome, code) => end(outcome, on.failed(phase, outcome, code), code),
    // Without this the pool would count the attempt in flight for good (least-request and p2c picks would shun it).
    abandon: (outcome) => (outcome === 'timeout' && latencyMs < 0 ? end('timeout', 'respond', HEADERS_TIMEOUT) : end('ok')),
  };
}
