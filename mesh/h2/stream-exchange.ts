// One HTTP/2 client stream through the proxy: a balancer pick per stream, replays while no response byte has been
// sent, and the same stats, attempt reports, passive-health results and access log as an HTTP/1.1 exchange.

import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { PickContext } from '../balancer/types.ts';
import { accessLogEntry, emitRequest } from '../proxy/access-log.ts';
import { type ProxyContext, countError } from '../proxy/context.ts';
import { type ProxyError, noHealthyReplica } from '../proxy/error-responses.ts';
import { ExchangeFailures } from '../proxy/exchange-failures.ts';
import type { ForwardingInfo } from '../proxy/forwarded-headers.ts';
import { REPLAY_LIMIT } from '../proxy/request-body.ts';
import { type AttemptFailure, isReplaySafe, nextAfterFailure } from '../proxy/retry.ts';
import { RetrySlot } from '../proxy/retry-slot.ts';
import type { AttemptOutcome, Upstream } from '../upstream-pool.ts';
import type { CallRequest, CallSink, Dialer, UpstreamCall } from './call.ts';
import { callRequest } from './request-headers.ts';

/** What every stream of one client session shares. */
export interface StreamSettings {
  ctx: ProxyContext;
  dialer: Dialer;
  /** The replicas speak h2c: a call is replayed whenever no response byte reached the client (gRPC's rule). */
  replayAnyMethod: boolean;
  info: ForwardingInfo;
  clientCert: string | undefined;
}

export class StreamExchange {
  readonly startedAt = performance.now();
  readonly method: string;
  readonly url: string;
  readonly #s: StreamSettings;
  readonly #stream: ServerHttp2Stream;
  readonly #req: CallRequest;
  /** The request body as received, kept while it fits REPLAY_LIMIT so a retry can send it again. */
  readonly #body: Buffer[] = [];
  #bodySize = 0;
  #bodyEnded: boolean;
  #bodyReplayable = true;
  #pick: PickContext | undefined;
  #failures: ExchangeFailures | undefined;
  #slot: RetrySlot | undefined;
  #call: UpstreamCall | undefined;
  #upstream: Upstream | undefined;
  #retriesUsed = 0;
  #failovers = 0;
  #errorCode: string | undefined;
  #grpcStatus: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  attempts = 0;
  aborted = false;
  finished = false;
  headSent = false;
  status = 0;
  bytesOut = 0;

  constructor(s: StreamSettings, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, endStream: boolean) {
    this.#s = s;
    this.#stream = stream;
    this.method = String(headers[':method'] ?? 'GET');
    this.url = String(headers[':path'] ?? '/');
    this.#req = callRequest(headers, s.info, endStream);
    this.#bodyEnded = endStream;
  }

  get service(): string {
    return this.#s.ctx.service;
  }

  start(): void {
    const { ctx } = this.#s;
    ctx.stats.requests++;
    ctx.stats.active++;
    ctx.budget.requestStarted();
    const st = this.#stream;
    st.on('data', (chunk: Buffer) => this.#bodyChunk(chunk));
    st.on('end', () => {
      this.#bodyEnded = true;
      this.#call?.end();
    });
    st.on('error', () => {});
    st.on('close', () => {
      if (!this.finished) this.#abort();
      this.#settle();
    });
    // One timer per stream bounds the whole request (HTTP/2 streams are not swept by the HTTP/1.1 tick).
    this.#timer = setTimeout(() => this.#timedOut(), this.#s.ctx.mesh.timeouts.requestMs);
    this.#attempt();
  }

  #bodyChunk(chunk: Buffer): void {
    if (this.#bodyReplayable) {
      this.#bodySize += chunk.length;
      if (this.#bodySize <= REPLAY_LIMIT) this.#body.push(chunk);
      else {
        this.#bodyReplayable = false;
        this.#body.length = 0;
      }
    }
    this.#call?.write(chunk);
  }

  #attempt(): void {
    if (this.aborted || this.finished) return;
    const pool = this.#s.ctx.pool;
    const up = pool.pick(this.#pick);
    if (up === undefined) {
      this.#fail(noHealthyReplica(this.service, pool.snapshot()));
      return;
    }
    if (this.#failures !== undefined && !this.#failures.mayRetry(up.id)) {
      // The balancer had nowhere else to go.
      this.#fail(this.#failures.response(this.service, this.#s.ctx.mesh.timeouts.requestMs));
      return;
    }
    const n = ++this.attempts;
    this.#s.ctx.stats.attempts++;
    this.#upstream = up;
    pool.onStart(up.id);
    const t0 = performance.now();
    let latencyMs = -1;
    let ended = false;
    const end = (outcome: AttemptOutcome, next?: 'failover' | 'retry' | 'respond', code?: string): void => {
      if (ended) return;
      ended = true;
      const ms = latencyMs >= 0 ? latencyMs : performance.now() - t0;
      pool.onResult(up.id, ms, outcome);
      this.#slot?.attemptEnded(n);
      const report = this.#s.ctx.onAttempt;
      if (report !== undefined) report({ service: this.service, upstream: up.id, attempt: n, outcome, latencyMs: ms, ...(this.status ? { status: this.status } : {}), ...(code ? { code } : {}), ...(next ? { next } : {}) });
    };
    const sink: CallSink = {
      response: (status, headers) => {
        latencyMs = performance.now() - t0;
        this.#respond(status, headers);
      },
      data: (chunk) => {
        this.bytesOut += chunk.length;
        const ok = this.#stream.write(chunk);
        if (!ok) this.#stream.once('drain', () => this.#call?.resume());
        return ok;
      },
      end: (trailers) => {
        end(this.status >= 500 ? 'http-5xx' : 'ok');
        this.#complete(trailers);
      },
      failed: (phase, outcome, code) => {
        const next = this.#failed(up, { phase, outcome, code });
        end(outcome, next, code);
      },
    };
    this.#call = this.#s.dialer.dial(up, this.#req, sink);
    if (this.#req.noBody) return;
    for (const chunk of this.#body) this.#call.write(chunk);
    if (this.#bodyEnded) this.#call.end();
  }

  #respond(status: number, headers: OutgoingHttpHeaders): void {
    if (this.aborted || this.#stream.destroyed) return;
    this.headSent = true;
    this.status = status;
    const g = headers['grpc-status'];
    if (g !== undefined) this.#grpcStatus = String(g);
    this.#stream.respond({ ...headers, ':status': status }, { waitForTrailers: true });
  }

  #complete(trailers: OutgoingHttpHeaders | undefined): void {
    this.finished = true;
    clearTimeout(this.#timer);
    const g = trailers?.['grpc-status'];
    if (g !== undefined) this.#grpcStatus = String(g);
    const st = this.#stream;
    if (st.destroyed) {
      this.#settle();
      return;
    }
    // Empty trailers end the stream with an empty DATA frame (node's rule), so every response ends the same way.
    st.once('wantTrailers', () => st.sendTrailers(trailers ?? {}));
    st.end();
  }

  /** Decides what follows a failed attempt: failover, a counted retry (budget allowing), or the proxy's own answer. */
  #failed(up: Upstream, failure: AttemptFailure): 'failover' | 'retry' | 'respond' | undefined {
    this.#pick ??= {};
    this.#failures ??= new ExchangeFailures(this.#pick);
    this.#failures.record(up, failure);
    if (this.aborted || this.finished) return undefined;
    if (failure.phase === 'responding' || this.headSent) {
      // Response bytes are with the client: the truncation must be visible, as a reset stream.
      this.#stream.close(0x2);
      return 'respond';
    }
    const { ctx } = this.#s;
    const replaySafe = this.#s.replayAnyMethod || isReplaySafe(this.method, this.#req.headers.includes('idempotency-key'));
    const q = { failure, replaySafe, bodyReplayable: this.#bodyReplayable, retriesUsed: this.#retriesUsed, retriesAllowed: ctx.mesh.retries };
    const decision = nextAfterFailure(q, this.#failovers, ctx.pool);
    if (decision === 'failover') {
      this.#failovers++;
      ctx.stats.failovers++;
      queueMicrotask(() => this.#attempt());
      return 'failover';
    }
    if (decision === 'retry') {
      this.#slot ??= new RetrySlot(ctx.budget, ctx.stats);
      this.#slot.retry(this.attempts + 1, () => this.#retry(), () => this.#fail(this.#failures!.response(this.service, ctx.mesh.timeouts.requestMs)), () => this.aborted || this.finished);
      return 'retry';
    }
    this.#fail(this.#failures.response(this.service, ctx.mesh.timeouts.requestMs));
    return 'respond';
  }

  #retry(): void {
    this.#retriesUsed++;
    this.#s.ctx.stats.retries++;
    this.#attempt();
  }

  #timedOut(): void {
    if (this.finished || this.aborted) return;
    this.#call?.cancel();
    if (this.headSent) this.#stream.close(0x8);
    else this.#fail((this.#failures ?? new ExchangeFailures({})).response(this.service, this.#s.ctx.mesh.timeouts.requestMs, true));
  }

  /** The proxy's own answer (as HTTP/1.1 does: status, `x-cmesh-error`, a one-line body). */
  #fail(e: ProxyError): void {
    if (this.aborted || this.finished) return;
    this.#errorCode = e.code;
    countError(this.#s.ctx, e.status);
    this.#respond(e.status, { 'content-type': 'text/plain; charset=utf-8', 'x-cmesh-error': e.code, 'cache-control': 'no-store' });
    const body = Buffer.from(`cmesh: ${e.message}\n`);
    this.bytesOut += body.length;
    this.#stream.write(body);
    this.#complete(undefined);
  }

  #abort(): void {
    if (this.finished || this.aborted) return;
    this.aborted = true;
    this.#call?.cancel();
  }

  /** Accounting and logs, once, when the client stream has closed. */
  #settle(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    const { ctx } = this.#s;
    ctx.stats.active--;
    ctx.budget.requestEnded();
    this.#slot?.release();
    if (ctx.onAccessLog === undefined && ctx.onRequest === undefined) return;
    const entry = accessLogEntry(this, ctx.service, this.#s.info.clientIp, this.#upstream?.id, this.#errorCode, undefined);
    entry.protocol = 'h2';
    if (this.#grpcStatus !== undefined) entry.grpcStatus = this.#grpcStatus;
    if (this.#s.clientCert !== undefined) entry.clientCert = this.#s.clientCert;
    emitRequest(ctx, entry);
  }
}
