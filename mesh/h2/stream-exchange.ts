// One HTTP/2 stream (or HTTP/1.1 request to h2c replicas) through the proxy: policy, a pick per stream, replays while
// no response byte was sent, and the stats, attempt reports, health results and access log of an HTTP/1.1 exchange.

import type { OutgoingHttpHeaders } from 'node:http2';
import { editHeaders } from '../policy/actions.ts';
import type { Answer, Forward } from '../policy/listener-policy.ts';
import { accessLogEntry, emitRequest } from '../proxy/access-log.ts';
import { countError } from '../proxy/context.ts';
import { type ProxyError, noHealthyReplica } from '../proxy/error-responses.ts';
import { type AttemptFailure, isReplaySafe, nextAfterFailure } from '../proxy/retry.ts';
import type { Upstream } from '../upstream-pool.ts';
import { type AttemptSink, attemptSink } from './attempt-sink.ts';
import { type CallRequest, type StreamSettings, type UpstreamCall, fieldList, h2ResponseHeaders } from './call.ts';

export type { StreamSettings } from './call.ts';
import type { ClientStream } from './client-stream.ts';
import { ReplayBody } from './replay-body.ts';
import { StreamRetries } from './stream-retries.ts';
import { type StreamRoute, answerParts, streamRoute } from './stream-route.ts';

export class StreamExchange {
  readonly startedAt = performance.now();
  readonly method: string;
  readonly url: string;
  readonly #s: StreamSettings;
  readonly #client: ClientStream;
  readonly #req: CallRequest;
  readonly #body: ReplayBody;
  readonly #route: StreamRoute;
  readonly #answer: Answer | undefined;
  /** Not yet dispatched to a replica: a route's breaker counts it as pending until then. */
  #pending = true;
  readonly #retries: StreamRetries;
  #call: UpstreamCall | undefined;
  #sink: AttemptSink | undefined;
  #upstream: Upstream | undefined;
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

  /** `url` is the target as received (the access log's), `req` what goes upstream after the policy's rewrites. */
  constructor(s: StreamSettings, client: ClientStream, req: CallRequest, url: string, decision?: Answer | Forward) {
    this.#s = s;
    this.#client = client;
    this.method = req.method;
    this.url = url;
    this.#req = req;
    this.#body = new ReplayBody(req.noBody);
    this.#route = streamRoute(s.ctx, decision);
    this.#answer = decision?.kind === 'answer' ? decision : undefined;
    // lb ring-hash: the same key as an HTTP/1.1 request would give (header, cookie or client IP).
    const hashKey = s.ctx.hashKey?.(req.headers, s.info.clientIp);
    const replaySafe = this.#route.h2c || isReplaySafe(this.method, req.headers.includes('idempotency-key'));
    this.#retries = new StreamRetries(hashKey, this.#route, replaySafe);
  }

  get service(): string {
    return this.#route.service;
  }

  start(): void {
    const { ctx } = this.#s;
    ctx.stats.requests++;
    ctx.stats.active++;
    ctx.budget.requestStarted();
    this.#client.onBody(
      (chunk) => {
        this.#body.push(chunk);
        this.#call?.write(chunk);
      },
      () => {
        this.#body.ended = true;
        this.#call?.end();
      },
    );
    this.#client.onClose(() => {
      // The client left before the response was complete: the attempt stops (a retry started later would, too).
      if (!this.finished && !this.aborted) {
        this.aborted = true;
        this.#call?.cancel();
        this.#sink?.abandon('ok');
      }
      this.#settle();
    });
    const a = this.#answer;
    if (a !== undefined) {
      if (a.code !== 'redirect') this.#errorCode = a.code;
      if (a.status >= 400) countError(ctx, a.status);
      const { headers, body } = answerParts(a);
      this.#respond(a.status, headers);
      this.#end(body);
      return;
    }
    // One timer per stream bounds the whole request (HTTP/2 streams are not swept by the HTTP/1.1 tick).
    const { delayMs, requestMs } = this.#route;
    this.#timer = setTimeout(() => this.#timedOut(), delayMs + requestMs);
    if (delayMs > 0) setTimeout(() => this.#attempt(), delayMs).unref();
    else this.#attempt();
  }

  #attempt(): void {
    if (this.aborted || this.finished) return;
    const { pool, requestMs } = this.#route;
    const r = this.#retries;
    const up = pool.pick(r.pick);
    if (up === undefined) {
      this.#fail(noHealthyReplica(this.service, pool.snapshot()));
      return;
    }
    if (r.failures !== undefined && !r.failures.mayRetry(up.id)) {
      // The balancer had nowhere else to go.
      this.#fail(r.response(this.service, requestMs));
      return;
    }
    if (this.#pending) {
      this.#pending = false;
      this.#route.breaker?.dispatched();
    }
    const n = ++this.attempts;
    this.#s.ctx.stats.attempts++;
    this.#upstream = up;
    const perTryMs = this.#route.retryOn?.perTryTimeoutMs;
    const scope = { ctx: this.#s.ctx, pool, service: this.service, up, n, perTryMs, status: () => this.status, ended: (i: number) => r.slot?.attemptEnded(i), cancel: () => call.cancel() };
    const sink = attemptSink(scope, {
      response: (status, headers) => {
        if (this.#retriedOnStatus(up, status)) return false;
        this.#respond(status, headers);
        return true;
      },
      data: (chunk) => {
        this.bytesOut += chunk.length;
        return this.#client.write(chunk, () => this.#call?.resume());
      },
      end: (trailers) => this.#complete(trailers),
      failed: (phase, outcome, code) => this.#failed(up, { phase, outcome, code }),
    });
    this.#sink = sink;
    const call = this.#s.dialer(this.#route.h2c).dial(up, this.#req, sink);
    this.#call = call;
    if (this.#req.noBody) return;
    for (const chunk of this.#body.chunks) this.#call.write(chunk);
    if (this.#body.ended) this.#call.end();
  }

  #respond(status: number, headers: OutgoingHttpHeaders): void {
    if (this.aborted || this.#client.gone) return;
    this.headSent = true;
    this.status = status;
    const g = headers['grpc-status'];
    if (g !== undefined) this.#grpcStatus = String(g);
    const edits = this.#route.responseEdits;
    this.#client.respond(status, edits === undefined ? headers : h2ResponseHeaders(editHeaders(fieldList(headers as Record<string, string>), edits)));
  }

  #complete(trailers: OutgoingHttpHeaders | undefined): void {
    this.finished = true;
    clearTimeout(this.#timer);
    const g = trailers?.['grpc-status'];
    if (g !== undefined) this.#grpcStatus = String(g);
    if (this.#client.gone) this.#settle();
    else this.#client.finish(trailers);
  }

  /** Decides what follows a failed attempt: failover, a counted retry (budget allowing), or the proxy's own answer. */
  #failed(up: Upstream, failure: AttemptFailure): 'failover' | 'retry' | 'respond' | undefined {
    const r = this.#retries;
    r.record(up, failure);
    if (this.aborted || this.finished) return undefined;
    if (failure.phase === 'responding' || this.headSent) {
      // Response bytes are with the client: the truncation must be visible, as a reset stream.
      this.#client.reset();
      return 'respond';
    }
    const { ctx } = this.#s;
    const { pool, requestMs } = this.#route;
    const decision = nextAfterFailure(r.question(failure, this.#body.replayable), r.failovers, pool);
    if (decision === 'failover') {
      r.failovers++;
      ctx.stats.failovers++;
      queueMicrotask(() => this.#attempt());
      return 'failover';
    }
    if (decision === 'retry') {
      const giveUp = (): void => this.#fail(r.response(this.service, requestMs));
      r.takeSlot(ctx).retry(this.attempts + 1, () => this.#retry(), giveUp, () => this.aborted || this.finished);
      return 'retry';
    }
    this.#fail(r.response(this.service, requestMs));
    return 'respond';
  }

  /** A 502/503 not yet forwarded: discarded and retried elsewhere when the rules and the budget allow. */
  #retriedOnStatus(up: Upstream, status: number): boolean {
    if (!this.#retries.retryOnStatus(this.#s.ctx, up, status, this.#body.replayable, this.attempts + 1)) return false;
    this.#call?.cancel();
    this.#retry();
    return true;
  }

  #retry(): void {
    this.#retries.used++;
    this.#s.ctx.stats.retries++;
    this.#attempt();
  }

  #timedOut(): void {
    if (this.finished || this.aborted) return;
    this.#call?.cancel();
    this.#sink?.abandon('timeout');
    if (this.headSent) this.#client.reset();
    else this.#fail(this.#retries.response(this.service, this.#route.requestMs, true));
  }

  /** The proxy's own answer (as HTTP/1.1 does: status, `x-cmesh-error`, a one-line body). */
  #fail(e: ProxyError): void {
    if (this.aborted || this.finished) return;
    this.#errorCode = e.code;
    countError(this.#s.ctx, e.status);
    this.#respond(e.status, { 'content-type': 'text/plain; charset=utf-8', 'x-cmesh-error': e.code, 'cache-control': 'no-store' });
    this.#end(Buffer.from(`cmesh: ${e.message}\n`));
  }

  /** A whole body the proxy wrote itself, and the end of the response. */
  #end(body: Buffer): void {
    this.bytesOut += body.length;
    this.#client.write(body, () => {});
    this.#complete(undefined);
  }

  /** Accounting and logs, once, when the client stream has closed. */
  #settle(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    const { ctx } = this.#s;
    ctx.stats.active--;
    ctx.budget.requestEnded();
    this.#retries.slot?.release();
    this.#route.breaker?.done(this.#pending);
    if (ctx.onAccessLog === undefined && ctx.onRequest === undefined) return;
    const entry = accessLogEntry(this, ctx.service, this.#s.info.clientIp, this.#upstream?.id, this.#errorCode, this.#route.label);
    if (this.#s.http2) entry.protocol = 'h2';
    if (this.#grpcStatus !== undefined) entry.grpcStatus = this.#grpcStatus;
    if (this.#s.clientCert !== undefined) entry.clientCert = this.#s.clientCert;
    emitRequest(ctx, entry);
  }
}
