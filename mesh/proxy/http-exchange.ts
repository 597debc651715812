// One client request through the proxy: pick a replica, stream the exchange, and fail over or retry when allowed.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { PickContext } from '../balancer/types.ts';
import type { Upstream } from '../upstream-pool.ts';
import { type AccessLogEntry, formatAccessLog } from './access-log.ts';
import { type AttemptStats, type ProxyContext, countError } from './context.ts';
import { type ProxyError, noHealthyReplica, sendProxyError, upstreamFailure } from './error-responses.ts';
import { type AttemptFailure, isReplaySafe, retryDecision } from './retry.ts';
import { RequestBody, hasBody } from './request-body.ts';
import { HttpAttempt } from './http-attempt.ts';

const kExchange = Symbol('cmesh.exchange');
type ResponseWithExchange = ServerResponse & { [kExchange]?: Exchange };

function onResponseClose(this: ResponseWithExchange): void {
  this[kExchange]?.closed();
}

/** Re-picks after not-sent failures are capped so a service whose replicas all refuse answers quickly. */
const MAX_FAILOVERS = 8;

export class Exchange {
  readonly ctx: ProxyContext;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly startedAt = performance.now();
  readonly method: string;
  readonly path: string;
  readonly headers: string[];
  readonly clientIp: string;
  readonly replaySafe: boolean;
  readonly #pick: PickContext = {};
  #tried: Set<string> | undefined;
  #body: RequestBody | undefined;
  #current: HttpAttempt | undefined;
  #lastFailure: { up: Upstream; failure: AttemptFailure } | undefined;
  #sameReplicaRetried = false;
  #retriesUsed = 0;
  #failovers = 0;
  /** The attempt number a held retry-budget slot covers (0 = none); released when that attempt ends. */
  #slotFor = 0;
  attempts = 0;
  aborted = false;
  bytesOut = 0;
  #errorCode: string | undefined;

  constructor(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse, path: string, headers: string[], clientIp: string) {
    this.ctx = ctx;
    this.req = req;
    this.res = res;
    this.method = req.method ?? 'GET';
    this.path = path;
    this.headers = headers;
    this.clientIp = clientIp;
    this.replaySafe = isReplaySafe(this.method, req.headers);
    const key = ctx.hashKey?.(req.headers, clientIp);
    if (key !== undefined) this.#pick.hashKey = key;
  }

  start(): void {
    const { ctx, res } = this;
    ctx.stats.active++;
    ctx.budget.requestStarted();
    // One shared listener finds its exchange on the response: no closure per request on the hot path.
    (res as ResponseWithExchange)[kExchange] = this;
    res.on('close', onResponseClose);
    if (!hasBody(this.req)) {
      this.attempt();
      return;
    }
    const body = new RequestBody(this.req);
    this.#body = body;
    body.prepare((err) => {
      if (err === undefined) this.attempt();
      else if (!this.aborted) this.res.destroy();
    });
  }

  get bodyReplayable(): boolean {
    return this.#body === undefined || this.#body.replayable;
  }

  /** Body for the next attempt: the buffered bytes, a replaying stream, or nothing. */
  attemptBody(): Buffer | Readable | null {
    return this.#body === undefined ? null : this.#body.forAttempt();
  }

  attempt(): void {
    if (this.aborted) return;
    const { ctx } = this;
    const remaining = this.startedAt + ctx.mesh.timeouts.requestMs - performance.now();
    if (remaining <= 0) {
      const id = this.#lastFailure?.up.id ?? '(none)';
      this.fail(upstreamFailure(ctx.service, id, 'timeout', this.#lastFailure?.failure.code, ctx.mesh.timeouts.requestMs));
      return;
    }
    const up = ctx.pool.pick(this.#pick);
    if (up === undefined) {
      this.fail(noHealthyReplica(ctx.service, ctx.pool.snapshot()));
      return;
    }
    if (this.#tried?.has(up.id)) {
      // The balancer had nowhere else to go. A reset on a reused keep-alive socket may be cured by a fresh
      // connection to the same replica (once); a refused connect or a 5xx would only repeat.
      const last = this.#lastFailure;
      if (last === undefined || last.failure.outcome !== 'reset' || this.#sameReplicaRetried) {
        this.fail(this.#failureResponse());
        return;
      }
      this.#sameReplicaRetried = true;
    }
    this.attempts++;
    ctx.stats.attempts++;
    const attempt = new HttpAttempt(this, up, this.attempts, Math.max(1, Math.ceil(remaining)));
    this.#current = attempt;
    attempt.dispatch();
  }

  /** Asked when a replica answers 502/503: discard it and retry? Takes a budget slot when the answer is yes. */
  retryOnStatus(status: number): boolean {
    const decision = retryDecision({
      failure: { phase: 'sent', outcome: 'http-5xx', code: undefined },
      status,
      replaySafe: this.replaySafe,
      bodyReplayable: this.bodyReplayable,
      retriesUsed: this.#retriesUsed,
      retriesAllowed: this.ctx.mesh.retries,
    });
    return decision === 'retry' && this.#acquireRetry();
  }

  /** Called once per attempt that did not deliver a response; decides between failover, retry and an error. */
  attemptFailed(attempt: HttpAttempt, failure: AttemptFailure, status?: number, retryAcquired = false): AttemptStats['next'] {
    this.#lastFailure = { up: attempt.upstream, failure };
    if (this.#tried === undefined) {
      this.#tried = new Set();
      this.#pick.exclude = this.#tried;
    }
    this.#tried.add(attempt.upstream.id);
    if (this.aborted) return undefined;
    if (failure.phase === 'responding') {
      // Part of the response is already with the client: cut the connection so the truncation is visible.
      this.res.destroy();
      return 'respond';
    }
    if (retryAcquired) {
      this.#retriesUsed++;
      this.ctx.stats.retries++;
      this.attempt();
      return 'retry';
    }
    const q = {
      failure,
      replaySafe: this.replaySafe,
      bodyReplayable: this.bodyReplayable,
      retriesUsed: this.#retriesUsed,
      retriesAllowed: this.ctx.mesh.retries,
      ...(status === undefined ? {} : { status }),
    };
    const decision = retryDecision(q);
    if (decision === 'failover' && this.#failovers < Math.min(MAX_FAILOVERS, Math.max(2, this.ctx.pool.snapshot().total))) {
      this.#failovers++;
      this.ctx.stats.failovers++;
      this.attempt();
      return 'failover';
    }
    if (decision === 'retry') {
      this.#retryWhenBudgetAllows();
      return 'retry';
    }
    this.fail(this.#failureResponse());
    return 'respond';
  }

  /** A counted retry once the budget grants a slot (possibly after a short wait), else the last failure. */
  #retryWhenBudgetAllows(): void {
    const go = (): void => {
      this.#retriesUsed++;
      this.ctx.stats.retries++;
      this.attempt();
    };
    if (this.#slotFor === this.attempts + 1) {
      go();
      return;
    }
    this.ctx.budget.acquire((ok) => {
      if (ok && this.aborted) {
        this.ctx.budget.release();
        return;
      }
      if (!ok) {
        this.ctx.stats.budgetExhausted++;
        this.fail(this.#failureResponse());
        return;
      }
      this.#slotFor = this.attempts + 1;
      go();
    });
  }

  /** Every attempt reports its end: a budget slot is held only while its retry runs, not for the whole response. */
  attemptEnded(n: number): void {
    if (this.#slotFor !== n) return;
    this.#slotFor = 0;
    this.ctx.budget.release();
  }

  #acquireRetry(): boolean {
    if (!this.ctx.budget.tryAcquire()) {
      this.ctx.stats.budgetExhausted++;
      return false;
    }
    this.#slotFor = this.attempts + 1;
    return true;
  }

  #failureResponse(): ProxyError {
    const last = this.#lastFailure!;
    const { ctx } = this;
    return upstreamFailure(ctx.service, last.up.id, last.failure.outcome, last.failure.code, ctx.mesh.timeouts.requestMs);
  }

  fail(e: ProxyError): void {
    if (this.aborted || this.res.writableEnded) return;
    this.#errorCode = e.code;
    countError(this.ctx, e.status);
    // An unread request body would have to be drained before the connection could carry another request.
    sendProxyError(this.res, e, !this.req.complete);
  }

  /** The response is done or the client is gone: abort what still runs, settle accounting, log. */
  closed(): void {
    const { ctx } = this;
    if (!this.res.writableFinished) {
      this.aborted = true;
      this.#current?.cancel();
    }
    ctx.stats.active--;
    ctx.budget.requestEnded();
    if (this.#slotFor !== 0) {
      this.#slotFor = 0;
      ctx.budget.release();
    }
    if (ctx.onAccessLog !== undefined || ctx.onRequest !== undefined) this.#log();
  }

  #log(): void {
    const entry: AccessLogEntry = {
      time: Math.round(performance.timeOrigin + this.startedAt),
      service: this.ctx.service,
      clientIp: this.clientIp,
      method: this.method,
      path: this.req.url ?? '',
      status: this.res.headersSent ? this.res.statusCode : 0,
      durationMs: Math.round((performance.now() - this.startedAt) * 1000) / 1000,
      ...(this.#current === undefined ? {} : { upstream: this.#current.upstream.id }),
      attempts: this.attempts,
      ...(this.aborted ? { error: 'client-abort' } : this.#errorCode === undefined ? {} : { error: this.#errorCode }),
      bytesOut: this.bytesOut,
    };
    this.ctx.onRequest?.(entry);
    this.ctx.onAccessLog?.(formatAccessLog(entry), entry);
  }
}
