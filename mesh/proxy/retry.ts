// When a failed upstream attempt may be replayed on another replica, and how many retries may be in flight at once.

import type { AttemptOutcome } from '../upstream-pool.ts';

/**
 * Idempotent by method (RFC 9110 §9.2.2: repeating it has the effect of one request), or a client that sends an
 * Idempotency-Key (draft-ietf-httpapi-idempotency-key-header) has told us a replay is safe; Go's net/http makes the
 * same exception.
 */
export function isReplaySafe(method: string, idempotencyKey: boolean): boolean {
  if (idempotencyKey) return true;
  // Compared, not a Set lookup (hashing per request): the method names come from llhttp's table, so each compare
  // of these constants is one of identical strings.
  switch (method) {
    case 'GET':
    case 'HEAD':
    case 'OPTIONS':
    case 'PUT':
    case 'DELETE':
    case 'TRACE':
      return true;
    default:
      return false;
  }
}

/** Where in the exchange an attempt failed; decides what the upstream can have seen. */
export type AttemptPhase =
  /** No connection carried the request: connect refused/timed out, or the pool was closed. Nothing was sent. */
  | 'not-sent'
  /** The request was handed to a socket, no response byte has arrived. The upstream may or may not have it. */
  | 'sent'
  /** Response headers were forwarded to the client: the exchange is committed to this replica. */
  | 'responding';

export interface AttemptFailure {
  phase: AttemptPhase;
  outcome: AttemptOutcome;
  /** errno, HPE_* parse error or one of the proxy's own codes below, for messages and the EPIPE rule. */
  code: string | undefined;
}

/** The proxy's own failure codes (errno and llhttp's HPE_* codes pass through as they are). */
export const CONNECT_TIMEOUT = 'CONNECT_TIMEOUT';
export const HEADERS_TIMEOUT = 'HEADERS_TIMEOUT';
export const BODY_TIMEOUT = 'BODY_TIMEOUT';
/** The replica closed the connection (FIN) before the response was complete. */
export const UPSTREAM_CLOSED = 'UPSTREAM_CLOSED';
/** The proxy's pool for the replica was closed (the replica left the service) before the request got a socket. */
export const POOL_CLOSED = 'POOL_CLOSED';

/** Maps a net/parse error at a given phase to the outcome passive health sees. */
export function classifyError(err: unknown, sentToSocket: boolean, responding: boolean): AttemptFailure {
  const code = (err as { code?: unknown } | null)?.code;
  const c = typeof code === 'string' ? code : undefined;
  if (c === CONNECT_TIMEOUT) return { phase: 'not-sent', outcome: 'timeout', code: c };
  if (c === HEADERS_TIMEOUT || c === BODY_TIMEOUT) {
    return { phase: responding ? 'responding' : 'sent', outcome: 'timeout', code: c };
  }
  // The request head is written only to a connected socket; any error before that left nothing on the wire.
  if (!sentToSocket) return { phase: 'not-sent', outcome: c === POOL_CLOSED ? 'reset' : 'connect-error', code: c };
  return { phase: responding ? 'responding' : 'sent', outcome: 'reset', code: c };
}

export interface RetryQuestion {
  failure: AttemptFailure;
  /** The upstream answered 502/503 and we have not forwarded it (only asked for replay-safe requests). */
  status?: number;
  replaySafe: boolean;
  /** The whole request body is still held (none, or ≤ 64 KiB buffered, or not one byte consumed yet). */
  bodyReplayable: boolean;
  /** Counted retries used so far and allowed (`mesh.retries`). */
  retriesUsed: number;
  retriesAllowed: number;
  /** x-cmesh `retry.on`: which failures are worth another try; absent = the rules below as they are. */
  on?: RetryOn;
}

/** `retry.on` as the proxy reads it: conditions (connect-failure, reset, timeout) and upstream statuses. */
export interface RetryOn {
  on: readonly string[];
  statuses: readonly number[];
}

/** 502/503 are retried by default; `retry.on` may name other statuses. */
export function retryableStatus(status: number, on: RetryOn | undefined): boolean {
  return on === undefined ? status === 502 || status === 503 : on.statuses.includes(status);
}

/**
 * 'failover' — try another replica, not counted against `retries` nor the budget: the request never reached anyone.
 * 'retry' — a counted retry, if the budget allows. 'no' — answer the client with this failure.
 *
 * The rules, most certain first:
 * - not-sent: always safe, whatever the method or body (connect refused after `docker kill`, pool closed).
 * - sent, then EPIPE before any response byte: the kernel refused our write because the peer had already reset the
 *   connection (a stale keep-alive socket to a dead replica), so no process can have read the request — safe even
 *   for POST, provided we still hold the body. A buffered body goes out in one write with the head.
 * - sent, then ECONNRESET / "other side closed" / 502 / 503: the replica may have read and applied the request
 *   before dying, so only replay-safe requests are retried (RFC 9110 §9.2.2; Go's `nothingWrittenError` rule).
 *   Idle pooled sockets are dropped before the replica's own keep-alive timeout, which avoids the common idle-close race.
 * - timeouts after sending are never retried: the request deadline is spent and a slow replica may still apply it.
 * - once response bytes reached the client nothing can be retried.
 */
export function retryDecision(q: RetryQuestion): 'failover' | 'retry' | 'no' {
  const { failure, on } = q;
  if (failure.phase === 'responding') return 'no';
  if (failure.phase === 'not-sent') return q.bodyReplayable && (on === undefined || on.on.includes('connect-failure')) ? 'failover' : 'no';
  if (!q.bodyReplayable || q.retriesUsed >= q.retriesAllowed) return 'no';
  if (q.status !== undefined) return q.replaySafe && retryableStatus(q.status, on) ? 'retry' : 'no';
  // With `retry.on: [timeout]` a replay-safe request whose try timed out (per_try_timeout) goes to another replica.
  if (failure.outcome === 'timeout') return on?.on.includes('timeout') && q.replaySafe ? 'retry' : 'no';
  if (failure.outcome !== 'reset' || (on !== undefined && !on.on.includes('reset'))) return 'no';
  return q.replaySafe || failure.code === 'EPIPE' ? 'retry' : 'no';
}

/** Re-picks after not-sent failures are capped so a service whose replicas all refuse answers quickly. */
const MAX_FAILOVERS = 8;

/**
 * An exchange's next step after an attempt failed without a usable response: retryDecision, with failovers capped at
 * the pool's size (at least 2, at most MAX_FAILOVERS). The pool is only asked its size when a failover is on the table.
 */
export function nextAfterFailure(q: RetryQuestion, failoversUsed: number, pool: { snapshot(): { total: number } }): 'failover' | 'retry' | 'no' {
  const decision = retryDecision(q);
  if (decision !== 'failover') return decision;
  return failoversUsed < Math.min(MAX_FAILOVERS, Math.max(2, pool.snapshot().total)) ? 'failover' : 'no';
}

/**
 * Envoy-style retry budget: retries in flight may not exceed `percent` of active requests, with a floor of
 * `minConcurrent`, so a sick service under load sees at most ~1.2× traffic instead of (1 + retries)×.
 *
 * Unlike Envoy, a retry that finds the budget full may wait briefly (`waitMs`) for a slot instead of failing at
 * once: when a replica dies, every request in flight on it fails in the same instant, a burst that can exceed the
 * floor even though each retry lasts milliseconds. Waiting adds no upstream load, so the bound still holds.
 */
export class RetryBudget {
  active = 0;
  retrying = 0;
  exhausted = 0;
  readonly #waiters: Array<{ grant: (ok: boolean) => void; timer: NodeJS.Timeout }> = [];

  constructor(
    readonly percent = 0.2,
    readonly minConcurrent = 3,
    readonly waitMs = 250,
  ) {}

  requestStarted(): void {
    this.active++;
  }

  requestEnded(): void {
    this.active--;
  }

  #limit(): number {
    return Math.max(this.minConcurrent, Math.floor(this.active * this.percent));
  }

  /** True and counted when one more retry may start now; pair with `release()` when that retry ends. */
  tryAcquire(): boolean {
    if (this.retrying >= this.#limit()) {
      this.exhausted++;
      return false;
    }
    this.retrying++;
    return true;
  }

  /** Like tryAcquire, but queues up to `waitMs` for a slot; `grant(true)` means the slot is held. */
  acquire(grant: (ok: boolean) => void): void {
    if (this.retrying < this.#limit()) {
      this.retrying++;
      grant(true);
      return;
    }
    if (this.waitMs <= 0) {
      this.exhausted++;
      grant(false);
      return;
    }
    const waiter = {
      grant,
      timer: setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        this.exhausted++;
        grant(false);
      }, this.waitMs),
    };
    this.#waiters.push(waiter);
  }

  release(): void {
    this.retrying--;
    // Hand the freed slot straight to the oldest waiter, if the limit still allows one more.
    while (this.#waiters.length > 0 && this.retrying < this.#limit()) {
      const w = this.#waiters.shift()!;
      clearTimeout(w.timer);
      this.retrying++;
      w.grant(true);
    }
  }
}
