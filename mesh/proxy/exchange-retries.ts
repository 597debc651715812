// An exchange's retry bookkeeping: its failed attempts (replicas tried, the last failure), the retries and failovers
// it used, and the retry-budget slot it holds while a retry runs. Made on the first failure or retry: a request that
// never fails or retries allocates none (mesh/proxy/http-exchange.ts decides; this only remembers).

import type { PickContext } from '../balancer/types.ts';
import type { Upstream } from '../upstream-pool.ts';
import type { ProxyContext } from './context.ts';
import type { ProxyError } from './error-responses.ts';
import { ExchangeFailures } from './exchange-failures.ts';
import { RetrySlot } from './retry-slot.ts';
import type { AttemptFailure } from './retry.ts';

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
