// One HTTP/2 client stream (or an HTTP/1.1 request to h2c replicas) through the proxy: the listener's policy, a
// balancer pick per stream, replays while no response byte has been sent, and the same stats, attempt reports,
// passive-health results and access log as an HTTP/1.1 exchange.

import type { OutgoingHttpHeaders } from 'node:http2';
import type { PickContext } from '../balancer/types.ts';
import { editHeaders } from '../policy/actions.ts';
import type { Answer, Forward } from '../policy/listener-policy.ts';
import { accessLogEntry, emitRequest } from '../proxy/access-log.ts';
import { countError } from '../proxy/context.ts';
import { type ProxyError, noHealthyReplica } from '../proxy/error-responses.ts';
import { ExchangeFailures } from '../proxy/exchange-failures.ts';
import { type AttemptFailure, isReplaySafe, nextAfterFailure } from '../proxy/retry.ts';
import { RetrySlot } from '../proxy/retry-slot.ts';
import type { Upstream } from '../upstream-pool.ts';
import { attemptSink } from './attempt-sink.ts';
import { type CallRequest, type StreamSettings, type UpstreamCall, fieldList, h2ResponseHeaders } from './call.ts';

export type { StreamSettings } from './call.ts';
import type { ClientStream } from './client-stream.ts';
import { ReplayBody } from './replay-body.ts';
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
    if (hashKey !== undefined) this.#pick = { hashKey };
  }

  get service(): string {
    return this.#route.service;
  }

  start(): void {
    const { ctx } = this.#s;
    ctx.stats.requests++;
    ctx.stats.active++;
    ctx.budget.requestStarted();
    const client = this.#client;
    client.onBody(
      (chunk) => {
        this.#body.push(chunk);
        this.#call?.write(chunk);
      },
      () => {
        this.#body.ended = true;
        this.#call?.end();
      },
    );
    client.onClose(() => {
      if (!this.finished) this.#abort();
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
    const up = pool.pick(this.#pick);
    if (up === undefined) {
      this.#fail(noHealthyReplica(this.service, pool.snapshot()));
      return;
    }
    if (this.#failures !== undefined && !this.#failures.mayRetry(up.id)) {
      // The balancer had nowhere else to go.
      this.#fail(this.#failures.response(this.service, requestMs));
      return;
    }
    if (this.#pending) {
      this.#pending = false;
      this.#route.breaker?.dispatched();
    }
    const n = ++this.attempts;
    this.#s.ctx.stats.attempts++;
    this.#upstream = up;
    const scope = { ctx: this.#s.ctx, pool, service: this.service, up, n, status: () => this.status, ended: (i: number) => this.#slot?.attemptEnded(i) };
    const sink = attemptSink(scope, {
      response: (status, headers) => this.#respond(status, headers),
      data: (chunk) => {
        this.bytesOut += chunk.length;
        return this.#client.write(chunk, () => this.#call?.resume());
      },
      end: (trailers) => this.#complete(trailers),
      failed: (phase, outcome, code) => this.#failed(up, { phase, outcome, code }),
    });
    this.#call = this.#s.dialer(this.#route.h2c).dial(up, this.#req, sink);
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
    this.#pick ??= {};
    this.#failures ??= new ExchangeFailures(this.#pick);
    this.#failures.record(up, failure);
    if (this.aborted || this.finished) return undefined;
    if (failure.phase === 'responding' || this.headSent) {
      // Response bytes are with the client: the truncation must be visible, as a reset stream.
      this.#client.reset();
      return 'respond';
    }
    const { ctx } = this.#s;
    const { h2c, retries, retryOn, pool, requestMs } = this.#route;
    // h2c replicas: a call is replayed whenever no response byte reached the client (gRPC's rule).
    const replaySafe = h2c || isReplaySafe(this.method, this.#req.headers.includes('idempotency-key'));
    const q = { failure, replaySafe, bodyReplayable: this.#body.replayable, retriesUsed: this.#retriesUsed, retriesAllowed: retries, on: retryOn };
    const decision = nextAfterFailure(q, this.#failovers, pool);
    if (decision === 'failover') {
      this.#failovers++;
      ctx.stats.failovers++;
      queueMicrotask(() => this.#attempt());
      return 'failover';
    }
    if (decision === 'retry') {
      this.#slot ??= new RetrySlot(ctx.budget, ctx.stats);
      this.#slot.retry(this.attempts + 1, () => this.#retry(), () => this.#fail(this.#failures!.response(this.service, requestMs)), () => this.aborted || this.finished);
      return 'retry';
    }
    this.#fail(this.#failures.response(this.service, requestMs));
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
    if (this.headSent) this.#client.reset();
    else this.#fail((this.#failures ?? new ExchangeFailures({})).response(this.service, this.#route.requestMs, true));
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
    this.#route.breaker?.done(this.#pending);
    if (ctx.onAccessLog === undefined && ctx.onRequest === undefined) return;
    const entry = accessLogEntry(this, ctx.service, this.#s.info.clientIp, this.#upstream?.id, this.#errorCode, this.#route.label);
    if (this.#s.http2) entry.protocol = 'h2';
    if (this.#grpcStatus !== undefined) entry.grpcStatus = this.#grpcStatus;
    if (this.#s.clientCert !== undefined) entry.clientCert = this.#s.clientCert;
    emitRequest(ctx, entry);
  }
}
