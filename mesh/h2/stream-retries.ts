// What a StreamExchange remembers across its attempts: the balancer's context (hash key, replicas tried), the
// failures, the retry-budget slot, and the counts the retry rules read. The HTTP/1.1 path's pieces, reused.

import type { PickContext } from '../balancer/types.ts';
import type { ProxyContext } from '../proxy/context.ts';
import type { ProxyError } from '../proxy/error-responses.ts';
import { ExchangeFailures } from '../proxy/exchange-failures.ts';
import { type AttemptFailure, type RetryQuestion, retryDecision, retryableStatus } from '../proxy/retry.ts';
import { RetrySlot } from '../proxy/retry-slot.ts';
import type { Upstream } from '../upstream-pool.ts';
import type { StreamRoute } from './stream-route.ts';

export class StreamRetries {
  pick: PickContext | undefined;
  failures: ExchangeFailures | undefined;
  slot: RetrySlot | undefined;
  used = 0;
  failovers = 0;

  /** `replaySafe`: by method, an Idempotency-Key, or h2c replicas (gRPC: replayed while no response byte was sent). */
  constructor(
    hashKey: string | undefined,
    readonly route: StreamRoute,
    readonly replaySafe: boolean,
  ) {
    if (hashKey !== undefined) this.pick = { hashKey };
  }

  /** The retry rules' question (retry.ts) about this stream. */
  question(failure: AttemptFailure, bodyReplayable: boolean, status?: number): RetryQuestion {
    const { retries, retryOn } = this.route;
    return { failure, status, replaySafe: this.replaySafe, bodyReplayable, retriesUsed: this.used, retriesAllowed: retries, on: retryOn };
  }

  /** A 502/503 (or a `retry.on` status) not yet forwarded: retry `attempt` elsewhere? Takes a budget slot if so. */
  retryOnStatus(ctx: ProxyContext, up: Upstream, status: number, bodyReplayable: boolean, attempt: number): boolean {
    if (!retryableStatus(status, this.route.retryOn)) return false;
    const failure = { phase: 'sent', outcome: 'http-5xx', code: undefined } as const;
    if (retryDecision(this.question(failure, bodyReplayable, status)) !== 'retry') return false;
    if (!this.takeSlot(ctx).tryTake(attempt)) return false;
    this.record(up, failure);
    return true;
  }

  /** Remembers a failed attempt; its replica is kept out of later picks. */
  record(up: Upstream, failure: AttemptFailure): void {
    this.pick ??= {};
    this.failures ??= new ExchangeFailures(this.pick);
    this.failures.record(up, failure);
  }

  takeSlot(ctx: ProxyContext): RetrySlot {
    this.slot ??= new RetrySlot(ctx.budget, ctx.stats);
    return this.slot;
  }

  /** The proxy's answer for the last failure (`timeout`: the request deadline passed). */
  response(service: string, requestMs: number, timeout = false): ProxyError {
    return (this.failures ?? new ExchangeFailures({})).response(service, requestMs, timeout);
  }
}
