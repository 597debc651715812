// One client request through the proxy: pick a replica, stream the exchange, and fail over or retry when allowed.

import { performance } from 'node:perf_hooks';
import type { MeshSpec } from '../../daemon/api/project.ts';
import type { HeaderEdits } from '../../daemon/api/traffic-policy.ts';
import type { PickContext } from '../balancer/types.ts';
import type { CircuitBreaker } from '../policy/breaker.ts';
import type { Answer, Forward } from '../policy/listener-policy.ts';
import type { CompiledRoute } from '../policy/route-table.ts';
import type { UpstreamPool } from '../upstream-pool.ts';
import type { ClientSide, ExchangeView } from './client-side.ts';
import { type AttemptStats, type ProxyContext, countError } from './context.ts';
import { type ProxyError, noHealthyReplica } from './error-responses.ts';
import { ExchangeRetries, type RetryingExchange } from './exchange-retries.ts';
import type { AttemptOwner } from './attempt-owner.ts';
import { HttpAttempt } from './http-attempt.ts';
import type { RequestBody } from './request-body.ts';
import type { PreparedRequest } from './request-head.ts';
import { reportRequest } from './request-report.ts';
import { type AttemptFailure, type RetryOn, retryableStatus } from './retry.ts';

export class Exchange implements AttemptOwner, ExchangeView, RetryingExchange {
  readonly ctx: ProxyContext;
  readonly conn: ClientSide;
  /** performance.now() when the request head was complete. */
  readonly startedAt: number;
  readonly method: string;
  /** The request target as received, for the access log. */
  readonly url: string;
  /** The upstream request head without its blank line (body framing is added per attempt). */
  readonly headBase: string;
  /** headBase with its blank line, for a bodiless request whose head needs no Host added. */
  readonly headWire: string;
  /** The client sent no Host (HTTP/1.0): each attempt names its replica, as HTTP/1.1 upstreams require one. */
  readonly needsHost: boolean;
  readonly isHead: boolean;
  readonly replaySafe: boolean;
  readonly body: RequestBody | null;
  /** The route's settings when a policy forwarded this request (getters read it, else the listener's: no copies). */
  readonly #forward: Forward | undefined;
  /** Not yet dispatched to a replica: the breaker counts it as pending until then. */
  #pending = true;
  /** The target a route picked when the policy answered for it (429, fault, overflow): metrics count it there. */
  #answeredFor: string | undefined;
  /** The route that matched, for the access log (a forward's, else the answer's). */
  #route: CompiledRoute | undefined;
  /** The balancer's context: a hash key, replicas to exclude; made only when there is one (most requests have none). */
  #pick: PickContext | undefined;
  /** Made on the first failed attempt or retry (a request that never fails allocates none). */
  #retries: ExchangeRetries | undefined;
  #current: HttpAttempt | undefined;
  attempts = 0;
  aborted = false;
  /** The response is complete (or the proxy's own answer was written). */
  finished = false;
  /** performance.now() when it was settled (`closed`): the report's end, and the connection's idle-since. */
  closedAt = -1;
  /** The response head went to the client (staged counts: it is written before anything else can be). */
  headSent = false;
  status = 0;
  bytesOut = 0;
  #errorCode: string | undefined;
  #closed = false;
  /** performance.now() as responseComplete was told it (-1: read it when settling). */
  #completedAt = -1;

  constructor(
    conn: ClientSide,
    startedAt: number,
    method: string,
    url: string,
    request: Readonly<PreparedRequest>,
    body: RequestBody | null,
    hashKey: string | undefined,
    forward?: Forward,
  ) {
    this.ctx = conn.ctx;
    this.conn = conn;
    this.method = method;
    this.url = url;
    // Copied: the connection's PreparedRequest is reused by its next request.
    this.headBase = request.head;
    this.headWire = request.wire;
    this.needsHost = request.needsHost;
    this.isHead = method === 'HEAD';
    this.body = body;
    this.replaySafe = request.replaySafe;
    this.startedAt = startedAt;
    if (hashKey !== undefined) this.#pick = { hashKey };
    this.#forward = forward;
    this.#route = forward?.route;
  }

  /** The policy answers this request itself (redirect, 404, 429, injected fault, overflow). */
  answer(a: Answer): void {
    this.ctx.stats.active++;
    this.ctx.budget.requestStarted();
    this.#errorCode = a.code === 'redirect' ? undefined : a.code;
    this.#route ??= a.route;
    if (a.target !== undefined) this.#answeredFor = a.target;
    if (a.status >= 400) countError(this.ctx, a.status);
    this.conn.sendAnswer(this, a.status, a.render);
  }

  start(): void {
    const { ctx } = this;
    ctx.stats.active++;
    ctx.budget.requestStarted();
    const delayMs = this.#forward?.delayMs ?? 0;
    if (delayMs > 0) {
      // An injected delay: held here, then on as usual (a client that leaves meanwhile ends it).
      setTimeout(() => this.#go(), delayMs).unref();
      return;
    }
    // The head was complete a moment ago, in this same callback: its timestamp serves the first attempt (no clock read).
    this.#go(this.startedAt);
  }

  #go(now?: number): void {
    if (this.aborted || this.finished) return;
    const body = this.body;
    if (body !== null && !body.ready) {
      body.whenReady(() => this.attempt());
      return;
    }
    this.attempt(now);
  }

  get connectionGate(): CircuitBreaker | undefined {
    return this.#forward?.breaker;
  }

  /** Where this request goes: the listener's own service, or the target a route picked (also when refused for it). */
  get service(): string {
    return this.#answeredFor ?? this.#forward?.target.service ?? this.ctx.service;
  }

  get pool(): UpstreamPool {
    return this.#forward?.target.pool ?? this.ctx.pool;
  }

  get retriesAllowed(): number {
    return this.#forward?.retries ?? this.ctx.mesh.retries;
  }

  get timeouts(): MeshSpec['timeouts'] {
    return this.#forward?.timeouts ?? this.ctx.mesh.timeouts;
  }

  get responseEdits(): HeaderEdits | undefined {
    return this.#forward?.responseHeaders;
  }

  get bodyReplayable(): boolean {
    return this.body === null || this.body.replayable;
  }

  /** `now`: performance.now() if the caller has just read it (the first attempt, from `start`). */
  attempt(now = performance.now()): void {
    if (this.aborted || this.finished) return;
    const deadline = this.startedAt + (this.#forward?.delayMs ?? 0) + this.timeouts.requestMs;
    if (deadline - now <= 0) {
      this.fail(this.#failureResponse(true));
      return;
    }
    const up = this.pool.pick(this.#pick);
    if (up === undefined) {
      this.fail(noHealthyReplica(this.service, this.pool.snapshot()));
      return;
    }
    if (this.#pending) {
      this.#pending = false;
      this.#forward?.breaker.dispatched();
    }
    if (this.#retries !== undefined && !this.#retries.mayRetry(up.id)) {
      // The balancer had nowhere else to go.
      this.fail(this.#failureResponse());
      return;
    }
    this.attempts++;
    this.ctx.stats.attempts++;
    const perTryMs = this.#forward?.retry?.perTryTimeoutMs;
    const tryDeadline = perTryMs === undefined ? deadline : Math.min(deadline, now + perTryMs);
    const attempt = new HttpAttempt(this, up, this.attempts, now, tryDeadline);
    this.#current = attempt;
    attempt.dispatch();
  }

  /** Is this status one to retry on (502/503, or what `retry.on` names)? Only then is retryOnStatus asked. */
  retryableStatus(status: number): boolean {
    return retryableStatus(status, this.#forward?.retry);
  }

  /** Asked when a replica answers a retryable status: discard it and retry? Takes a budget slot when the answer is yes. */
  retryOnStatus(status: number): boolean {
    return this.#tracked().retryOnStatus(this, status);
  }

  /** Called once per attempt that did not deliver a response; ExchangeRetries decides between failover, retry and an error. */
  attemptFailed(attempt: HttpAttempt, failure: AttemptFailure, status?: number, retryAcquired = false): AttemptStats['next'] {
    this.#pick ??= {};
    const retries = this.#tracked();
    retries.record(this.#pick, attempt.upstream, failure);
    return retries.afterFailure(this, failure, status, retryAcquired);
  }

  get retryOn(): RetryOn | undefined {
    return this.#forward?.retry;
  }

  /** Every attempt reports its end (a retry's budget slot is held only while it runs). */
  attemptEnded(n: number): void {
    this.#retries?.attemptEnded(n);
  }

  #tracked(): ExchangeRetries {
    this.#retries ??= new ExchangeRetries(this.ctx);
    return this.#retries;
  }

  #failureResponse(timeout = false): ProxyError {
    return this.#tracked().response(this.service, this.timeouts.requestMs, timeout);
  }

  /** Answers with the proxy's own error (or cuts the connection if a response is already under way). */
  fail(e: ProxyError): void {
    if (this.aborted || this.finished) return;
    this.#errorCode = e.code;
    countError(this.ctx, e.status);
    this.conn.sendError(this, e);
  }

  /** The client's request turned out malformed (or too slow) mid-body: stop the attempt, answer `e`, close. */
  refuse(e: ProxyError): void {
    this.#current?.cancel();
    this.fail(e);
  }

  /**
   * The response is complete on the client connection. `at`: performance.now() read a moment ago in this same
   * callback (the head's, when the whole response came in one replica read), else -1 and `closed` reads the clock.
   */
  responseComplete(at = -1): void {
    this.finished = true;
    this.#completedAt = at;
    this.conn.exchangeDone(this);
  }

  /** The client connection closed before the response was complete. */
  abort(): void {
    if (this.finished || this.#closed) return;
    this.aborted = true;
    this.#current?.cancel();
    this.closed();
  }

  /** Settles accounting and logs, once. */
  closed(): void {
    if (this.#closed) return;
    this.#closed = true;
    const { ctx } = this;
    ctx.stats.active--;
    ctx.budget.requestEnded();
    this.#forward?.breaker.done(this.#pending);
    this.#retries?.release();
    this.closedAt = this.#completedAt >= 0 ? this.#completedAt : performance.now();
    reportRequest(ctx, this, this.conn, this.#current?.upstream.id, this.#errorCode, this.#route, this.closedAt);
  }
}
