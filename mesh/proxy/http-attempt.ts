// One try of a request at one replica: an undici dispatch handler that streams the response to the client.
// It uses undici's raw-header handler callbacks (onConnect/onHeaders/onData): the newer controller API parses every
// response's headers into an object first, which this proxy would only have to flatten back.

import type { Dispatcher } from 'undici';
import type { AttemptOutcome, Upstream } from '../upstream-pool.ts';
import { type AttemptFailure, classifyError } from './retry.ts';
import { clientResponseHeaders } from './forwarded-headers.ts';
import type { Exchange } from './http-exchange.ts';

/**
 * undici's own headers timeout runs on coarse timers (ticks of ~0.5 s): right for the default 30 s deadline, far
 * off for a short one. Below this the attempt keeps its own precise timer instead.
 */
const PRECISE_DEADLINE_MS = 5000;

function headersTimeoutError(ms: number): Error {
  return Object.assign(new Error(`no response headers within ${ms}ms`), { code: 'UND_ERR_HEADERS_TIMEOUT' });
}

export class HttpAttempt implements Dispatcher.DispatchHandler {
  readonly upstream: Upstream;
  readonly #ex: Exchange;
  readonly #number: number;
  readonly #headersTimeoutMs: number;
  readonly #t0 = performance.now();
  #latencyMs = -1;
  /** undici called onConnect: the request head was handed to a connected socket. */
  #sent = false;
  /** Response headers were forwarded to the client. */
  #responding = false;
  /** A 502/503 is being drained and thrown away because a retry was granted. */
  #discardStatus = 0;
  #status = 0;
  #abort: ((err?: Error) => void) | undefined;
  #resume: (() => void) | undefined;
  #waitingDrain = false;
  #cancelled = false;
  #ended = false;
  #timer: NodeJS.Timeout | undefined;
  #onDrain: (() => void) | undefined;
  #timedOut = false;

  constructor(ex: Exchange, upstream: Upstream, number: number, headersTimeoutMs: number) {
    this.#ex = ex;
    this.upstream = upstream;
    this.#number = number;
    this.#headersTimeoutMs = headersTimeoutMs;
  }

  dispatch(): void {
    const ex = this.#ex;
    const { ctx } = ex;
    ctx.pool.onStart(this.upstream.id);
    const precise = this.#headersTimeoutMs < PRECISE_DEADLINE_MS;
    if (precise) this.#timer = setTimeout(() => this.#onDeadline(), this.#headersTimeoutMs);
    try {
      ctx.clients.get(this.upstream).dispatch(
        {
          path: ex.path,
          method: ex.method as Dispatcher.HttpMethod,
          headers: ex.headers,
          body: ex.attemptBody(),
          headersTimeout: precise ? 0 : this.#headersTimeoutMs,
          bodyTimeout: ctx.mesh.timeouts.idleMs,
        },
        this,
      );
    } catch (err) {
      // undici validates synchronously (header bytes, path) before anything is sent: that is the request's fault.
      this.#finish('ok');
      const message = err instanceof Error ? err.message : String(err);
      ex.fail({ status: 400, code: 'bad-request', message: `request refused before forwarding: ${message}` });
    }
  }

  /** The client went away: abort now if the request is on a socket, else as soon as undici assigns one. */
  cancel(): void {
    this.#cancelled = true;
    this.#abort?.(new Error('client closed the connection'));
  }

  #onDeadline(): void {
    this.#timer = undefined;
    this.#timedOut = true;
    this.#abort?.(headersTimeoutError(this.#headersTimeoutMs));
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#sent = true;
    this.#abort = abort;
    if (this.#cancelled) abort(new Error('client closed the connection'));
    else if (this.#timedOut) abort(headersTimeoutError(this.#headersTimeoutMs));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    // 1xx (100 Continue, 103) are answered to the client by node itself where needed; wait for the final status.
    if (statusCode < 200) return true;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#latencyMs = performance.now() - this.#t0;
    this.#status = statusCode;
    const ex = this.#ex;
    if ((statusCode === 502 || statusCode === 503) && ex.retryOnStatus(statusCode)) {
      this.#discardStatus = statusCode;
      return true;
    }
    const res = ex.res;
    if (ex.aborted) return false;
    this.#resume = resume;
    this.#responding = true;
    res.sendDate = false;
    if (ex.ctx.draining) res.shouldKeepAlive = false;
    try {
      res.writeHead(statusCode, statusText, clientResponseHeaders(rawHeaders));
    } catch (err) {
      // node refused a header the upstream sent (invalid characters): that is a bad gateway, not a crash.
      this.#responding = false;
      this.#abort?.(err instanceof Error ? err : new Error(String(err)));
      return false;
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#discardStatus !== 0) return true;
    const ex = this.#ex;
    if (ex.aborted) return false;
    ex.bytesOut += chunk.length;
    if (ex.res.write(chunk)) return true;
    // Backpressure: undici stops reading the upstream socket until the client drains.
    if (this.#onDrain === undefined) {
      // Created on first backpressure only: most responses never need it.
      this.#onDrain = () => {
        this.#waitingDrain = false;
        this.#resume?.();
      };
    }
    if (!this.#waitingDrain) {
      this.#waitingDrain = true;
      ex.res.once('drain', this.#onDrain);
    }
    return false;
  }

  onComplete(): void {
    const ex = this.#ex;
    if (this.#discardStatus !== 0) {
      this.#finish('http-5xx');
      const failure: AttemptFailure = { phase: 'sent', outcome: 'http-5xx', code: `HTTP ${this.#discardStatus}` };
      this.#report('http-5xx', ex.attemptFailed(this, failure, this.#discardStatus, true));
      return;
    }
    const outcome: AttemptOutcome = this.#status >= 500 ? 'http-5xx' : 'ok';
    this.#finish(outcome);
    this.#report(outcome, undefined);
    if (!ex.aborted) ex.res.end();
  }

  onError(err: Error): void {
    const ex = this.#ex;
    const failure = classifyError(err, this.#sent, this.#responding);
    if (this.#cancelled && this.#sent) {
      // Our own abort after the client left: not the replica's fault.
      this.#finish('ok');
      return;
    }
    if (!this.#responding && this.#status !== 0 && this.#discardStatus === 0) {
      // Headers arrived but node refused them (see onHeaders): report the response as invalid.
      failure.code = 'UND_ERR_RESPONSE';
    }
    this.#finish(failure.outcome);
    this.#report(failure.outcome, ex.attemptFailed(this, failure), failure.code);
  }

  #finish(outcome: AttemptOutcome): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#waitingDrain && this.#onDrain !== undefined) this.#ex.res.off('drain', this.#onDrain);
    const latency = this.#latencyMs >= 0 ? this.#latencyMs : performance.now() - this.#t0;
    this.#ex.ctx.pool.onResult(this.upstream.id, latency, outcome);
    this.#ex.attemptEnded(this.#number);
  }

  #report(outcome: AttemptOutcome, next: 'failover' | 'retry' | 'respond' | undefined, code?: string): void {
    const { ctx } = this.#ex;
    if (ctx.onAttempt === undefined) return;
    ctx.onAttempt({
      service: ctx.service,
      upstream: this.upstream.id,
      attempt: this.#number,
      outcome,
      latencyMs: this.#latencyMs >= 0 ? this.#latencyMs : performance.now() - this.#t0,
      ...(this.#status === 0 ? {} : { status: this.#status }),
      ...(code === undefined ? {} : { code }),
      ...(next === undefined ? {} : { next }),
    });
  }
}
