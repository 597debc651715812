// An exchange's retry bookkeeping and what it does after a failed attempt: its failed attempts (replicas tried, the
// last failure), the retries and failovers it used, the retry-budget slot it holds while a retry runs, and the choice
// between failover, retry and an error answer. Made on the first failure or retry: a request that never fails or
// retries allocates none and never calls in here (mesh/proxy/http-exchange.ts).

import type { MeshSpec } from '../../daemon/api/project.ts';
import type { PickContext } from '../balancer/types.ts';
import type { Upstream } from '../upstream-pool.ts';
import type { AttemptStats, ProxyContext } from './context.ts';
import type { ProxyError } from './error-responses.ts';
import { ExchangeFailures } from './exchange-failures.ts';
import { RetrySlot } from './retry-slot.ts';
import { type AttemptFailure, nextAfterFailure, type RetryOn, type RetryQuestion, retryDecision } from './retry.ts';

/** What the retry decisions read of the exchange, and the two things they make it do (Exchange). */
export interface RetryingExchange {
  readonly ctx: Pick<ProxyContext, 'stats'>;
  readonly conn: { destroy(): void };
  readonly aborted: boolean;
  readonly finished: boolean;
  readonly attempts: number;
  readonly replaySafe: boolean;
  readonly bodyReplayable: boolean;
  readonly retriesAllowed: number;
  /** The route's `retry` settings (undefined: the listener's defaults). */
  readonly retryOn: RetryOn | undefined;
  readonly pool: { snapshot(): { total: number } };
  readonly service: string;
  readonly timeouts: MeshSpec['timeouts'];
  /** Another attempt, at whatever replica the balancer picks now. */
  attempt(): void;
  fail(e: ProxyError): void;
}

export class ExchangeRetries {
  #failures: ExchangeFailures | undefined;
  #slot: RetrySlot | undefined;
  /** Retries counted against the route's `retries`. */
  used = 0;
  failovers = 0;

  constructor(private readonly ctx: Pick<ProxyContext, 'budget' | 'stats'>) {}

  /** A failed attempt on `up`: the balancer's context `pick` excludes the replicas tried from now on. */
  record(pick: PickContext, up: Upstream, failure: AttemptFailure): void {
    this.#failures ??= new ExchangeFailures(pick);
    this.#failures.record(up, failure);
  }

  /** May the balancer's pick `id` be tried (again)? See ExchangeFailures.mayRetry. */
  mayRetry(id: string): boolean {
    return this.#failures === undefined || this.#failures.mayRetry(id);
  }

  /** The error answer for the last failure (`timeout`: the request deadline passed). */
  response(service: string, requestMs: number, timeout: boolean): ProxyError {
    return (this.#failures ?? new ExchangeFailures({})).response(service, requestMs, timeout);
  }

  /** A replica answered a retryable status: discard it and retry? Takes a budget slot when the answer is yes. */
  retryOnStatus(ex: RetryingExchange, status: number): boolean {
    const decision = retryDecision(this.#question(ex, { phase: 'sent', outcome: 'http-5xx', code: undefined }, status));
    return decision === 'retry' && this.slot().tryTake(ex.attempts + 1);
  }

  /** An attempt (already recorded) delivered no response: failover, retry or the error answer; returns which. */
  afterFailure(ex: RetryingExchange, failure: AttemptFailure, status: number | undefined, retryAcquired: boolean): AttemptStats['next'] {
    if (ex.aborted || ex.finished) return undefined;
    if (failure.phase === 'responding') {
      // Part of the response is already with the client: cut the connection so the truncation is visible.
      ex.conn.destroy();
      return 'respond';
    }
    if (retryAcquired) {
      this.#retry(ex);
      return 'retry';
    }
    const decision = nextAfterFailure(this.#question(ex, failure, status), this.failovers, ex.pool);
    if (decision === 'failover') {
      this.failovers++;
      this.ctx.stats.failovers++;
      ex.attempt();
      return 'failover';
    }
    if (decision === 'retry') {
      // A counted retry once the budget grants a slot (possibly after a short wait), else the last failure.
      this.slot().retry(ex.attempts + 1, () => this.#retry(ex), () => ex.fail(this.#failureResponse(ex)), () => ex.aborted || ex.finished);
      return 'retry';
    }
    ex.fail(this.#failureResponse(ex));
    return 'respond';
  }

  /** The retry rules' question about this exchange; `on` and `status` are left undefined when absent. */
  #question(ex: RetryingExchange, failure: AttemptFailure, status: number | undefined): RetryQuestion {
    return { failure, status, replaySafe: ex.replaySafe, bodyReplayable: ex.bodyReplayable, retriesUsed: this.used, retriesAllowed: ex.retriesAllowed, on: ex.retryOn };
  }

  #retry(ex: RetryingExchange): void {
    this.used++;
    this.ctx.stats.retries++;
    ex.attempt();
  }

  #failureResponse(ex: RetryingExchange): ProxyError {
    return this.response(ex.service, ex.timeouts.requestMs, false);
  }

  /** The budget slot, made on the first retry. */
  slot(): RetrySlot {
    this.#slot ??= new RetrySlot(this.ctx.budget, this.ctx.stats);
    return this.#slot;
  }

  /** Every attempt reports its end: a budget slot is held only while its retry runs, not for the whole response. */
  attemptEnded(n: number): void {
    this.#slot?.attemptEnded(n);
  }

  release(): void {
    this.#slot?.release();
  }
}
