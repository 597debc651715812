// What an exchange remembers of its failed attempts: the replicas tried (kept out of later picks), the last failure
// (for the error answer), and whether the one same-replica retry after a reset was spent. Made on the first failure.

import type { PickContext } from '../balancer/types.ts';
import type { Upstream } from '../upstream-pool.ts';
import { type ProxyError, upstreamFailure } from './error-responses.ts';
import type { AttemptFailure } from './retry.ts';

export class ExchangeFailures {
  readonly #tried = new Set<string>();
  #last: { up: Upstream; failure: AttemptFailure } | undefined;
  #sameReplicaRetried = false;

  /** The balancer's context for this exchange: the replicas tried are excluded from now on. */
  constructor(pick: PickContext) {
    pick.exclude = this.#tried;
  }

  record(up: Upstream, failure: AttemptFailure): void {
    this.#last = { up, failure };
    this.#tried.add(up.id);
  }

  /**
   * The balancer picked `id` again. A reset on a reused keep-alive socket may be cured by a fresh connection to the
   * same replica (once); a refused connect or a 5xx would only repeat.
   */
  mayRetry(id: string): boolean {
    if (!this.#tried.has(id)) return true;
    const last = this.#last;
    if (last === undefined || last.failure.outcome !== 'reset' || this.#sameReplicaRetried) return false;
    this.#sameReplicaRetried = true;
    return true;
  }

  /** The error answer for the last failure (`timeout` overrides its outcome when the request deadline passed). */
  response(service: string, requestMs: number, timeout = false): ProxyError {
    const last = this.#last;
    const outcome = timeout ? 'timeout' : (last?.failure.outcome ?? 'timeout');
    return upstreamFailure(service, last?.up.id ?? '(none)', outcome, last?.failure.code, requestMs);
  }
}
