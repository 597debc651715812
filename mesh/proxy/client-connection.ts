// One client connection of the HTTP proxy: llhttp (strict) parses requests straight from the socket, each request
// becomes an Exchange, and responses are written back as single buffers, one request at a time, in order.
// This half parses and dispatches requests; answering and ending the connection is ClientLifecycle's.

import { performance } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import { opensH2Preface } from '../h2/preface.ts';
import { clientIdentity } from '../tls/identity.ts';
import { ClientLifecycle } from './client-lifecycle.ts';
import { ACTIVE, CLOSING, type ClientLimits, HEAD, IDLE, type ParkedHead, UPGRADING } from './client-state.ts';
import type { ProxyContext } from './context.ts';
import type { ProxyError } from './error-responses.ts';
import { type ForwardingInfo, normalizeIp } from './forwarded-headers.ts';
import { Exchange } from './http-exchange.ts';
import { METHODS, PAUSE, PROCEED, type ParseError, type ParseSink, ParsedSocket } from './llhttp.ts';
import { RequestBody } from './request-body.ts';
import { type PreparedRequest, hasBody, newPreparedRequest, prepareRequest } from './request-head.ts';
import { hostCount } from './request-target.ts';
import { handleUpgrade } from './websocket.ts';

export type { ClientLimits } from './client-state.ts';

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

export class ClientConnection extends ClientLifecycle implements ParseSink {
  protected readonly in: ParsedSocket;
  readonly clientCert: string | undefined;
  readonly #info: ForwardingInfo;
  readonly #request: PreparedRequest = newPreparedRequest();
  #leftover: Buffer | null = null;
  #upgrade: ParkedHead | null = null;
  #inExecute = false;
  #nextDeferred = false;
  /** Head fields and target collected when a head spans reads (parsedHeaders). */
  #headers: string[] | null = null;
  #url = '';

  constructor(ctx: ProxyContext, socket: Socket, limits: ClientLimits) {
    const clientIp = normalizeIp(socket.remoteAddress);
    super(ctx, socket, limits, clientIp);
    const id = clientIdentity(socket);
    this.clientCert = id.subject;
    this.#info = { clientIp, trusted: ctx.trust.has(clientIp), proto: id.proto, xfcc: id.xfcc, via: ctx.via };
    this.in = new ParsedSocket(socket, 'request', limits.maxHeaderSize, this, ctx.readPath);
    this.in.attach();
    ctx.connections.add(this);
  }

  // ---- parser events (ParseSink) ----

  parsedHeaders(fields: string[], url: string): void {
    this.#inExecute = true;
    if (this.#headers === null) this.#headers = fields;
    else for (const f of fields) this.#headers.push(f);
    this.#url += url;
  }

  parsedHead(
    major: number,
    minor: number,
    headers: string[] | undefined,
    method: number | undefined,
    url: string | undefined,
    _status: number | undefined,
    _reason: string | undefined,
    upgrade: boolean,
    keepAlive: boolean,
  ): number {
    this.#inExecute = true;
    const h = headers ?? this.#headers ?? [];
    const u = url ?? this.#url;
    this.#headers = null;
    this.#url = '';
    if (this.state >= UPGRADING) return PAUSE;
    if (this.exchange !== null) {
      // Pipelined: parse no further until the response before it is complete.
      this.parked = { major, minor, headers: h, method: method ?? 1, url: u, upgrade, keepAlive };
      return PAUSE;
    }
    return this.#start(major, minor, h, method ?? 1, u, upgrade, keepAlive);
  }

  #start(major: number, minor: number, headers: string[], method: number, url: string, upgrade: boolean, keepAlive: boolean): number {
    const { ctx } = this;
    ctx.stats.requests++;
    this.served++;
    this.state = ACTIVE;
    const now = performance.now();
    this.since = now;
    this.http11 = major === 1 && minor >= 1;
    this.keepAlive = keepAlive;
    const name = METHODS[method] ?? 'GET';
    if (name === 'CONNECT') {
      return this.refuse({ status: 405, code: 'method-not-allowed', message: 'CONNECT is not supported by a reverse proxy' });
    }
    if (upgrade) {
      if (this.http11 && hostCount(headers) === 0) return this.refuse({ status: 400, code: 'bad-request', message: 'missing Host header' });
      this.#upgrade = { major, minor, headers, method, url, upgrade, keepAlive };
      this.state = UPGRADING;
      return PROCEED;
    }
    const r = this.#request;
    // The policy picks the route first: a rewritten path and edited headers go into the upstream head.
    const decision = ctx.policy?.decide(name, url, headers, this.clientIp);
    const forward = decision?.kind === 'forward' ? decision : undefined;
    const refused = prepareRequest(name, forward?.url ?? url, forward?.headers ?? headers, this.http11, this.#info, r);
    if (refused !== undefined) {
      forward?.breaker.done(true);
      return this.refuse(refused);
    }
    let body: RequestBody | null = null;
    // A bodiless request is complete now; its message-complete event is not even asked for (one call less).
    this.bodyDone = !hasBody(r);
    this.in.wantMessageComplete(!this.bodyDone);
    if (!this.bodyDone) body = new RequestBody(this, r.chunked, r.contentLength);
    const ex = new Exchange(this, now, name, url, r, body, ctx.hashKey?.(headers, this.clientIp), forward);
    this.exchange = ex;
    if (decision?.kind === 'answer') {
      ex.answer(decision);
      return PROCEED;
    }
    if (r.expectContinue && body !== null) this.socket.write(CONTINUE, 'latin1');
    ex.start();
    return PROCEED;
  }

  parsedBody(chunk: Buffer): void {
    this.#inExecute = true;
    if (this.state !== ACTIVE) return;
    const body = this.exchange?.body;
    // No exchange: a response already ended this request; the rest of its body is dropped.
    if (body !== null && body !== undefined) body.push(chunk);
  }

  parsedMessageComplete(): void {
    this.#inExecute = true;
    if (this.state !== ACTIVE || this.bodyDone) return;
    this.bodyDone = true;
    const ex = this.exchange;
    if (ex !== null) ex.body?.end();
    else this.next();
  }

  parsedRead(ret: number | ParseError): void {
    this.#inExecute = false;
    if (typeof ret !== 'number') {
      if (this.state === CLOSING) return;
      if (ret.code === 'HPE_PAUSED') {
        if (this.parked !== null) {
          const rest = this.in.unparsed(ret.bytesParsed);
          this.#leftover = rest.length > 0 ? rest : null;
          this.updateReading();
        }
        return;
      }
      this.#parseError(ret);
      return;
    }
    if (this.state === UPGRADING && this.#upgrade !== null) {
      this.#handOver(this.in.unparsed(ret));
      return;
    }
    if (this.#nextDeferred) {
      this.#nextDeferred = false;
      this.next();
    }
    if (this.state === IDLE && ret > 0 && !this.in.headersCompleted()) {
      this.state = HEAD;
      this.since = performance.now();
    }
    // A pipelined remainder parsed after the client's FIN: nothing more is coming to complete or follow it.
    if (this.halfClosed && (this.state === IDLE || this.state === HEAD)) this.end();
  }

  #parseError(err: ParseError): void {
    if (err.code === 'HPE_PAUSED_H2_UPGRADE' && this.#h2Preface()) return;
    const ex = this.exchange;
    const e: ProxyError =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? { status: 431, code: 'bad-request', message: 'request header fields too large' }
        : { status: 400, code: 'bad-request', message: `malformed request (${err.code})` };
    if (ex === null) {
      if (this.state === ACTIVE) {
        // The rest of a body we were discarding is malformed: nothing more can be read from this client.
        this.destroy();
        return;
      }
      this.refuse(e);
      return;
    }
    if (!this.bodyDone) {
      // This request's own body is malformed (bad chunking): it must not complete upstream.
      if (ex.headSent) this.destroy();
      else ex.refuse(e);
      return;
    }
    // The bytes after a complete request are bad: answer that request, then close without reading further.
    this.closeAfter = true;
    this.stopReading();
  }

  /** An exchange completed inside a parser callback: the next request starts when the read's parsing returns. */
  protected deferNext(): boolean {
    if (this.#inExecute) this.#nextDeferred = true;
    return this.#inExecute;
  }

  /** Between requests: close, start a parked (pipelined) head, or wait idle. */
  protected next(): void {
    const settledAt = this.settledAt;
    this.settledAt = -1;
    if (this.state === CLOSING || this.socket.destroyed) return;
    const parked = this.parked;
    if (parked === null) {
      // Half-closed: once nothing it sent is left to answer, the connection is done.
      if (this.halfClosed && this.#leftover === null) {
        this.end();
        return;
      }
      this.state = IDLE;
      // Idle since the exchange before was settled, a moment ago in this same callback (one clock read less).
      this.since = settledAt >= 0 ? settledAt : performance.now();
      return;
    }
    this.parked = null;
    // The leftover stays visible while the request starts: one answered at once must not end a half-closed connection.
    const r = this.#start(parked.major, parked.minor, parked.headers, parked.method, parked.url, parked.upgrade, parked.keepAlive);
    const leftover = this.#leftover;
    this.#leftover = null;
    // Refused, or answered at once with the connection closing: nothing after it is parsed.
    if (r === PAUSE || this.state === CLOSING) return;
    if (this.state === UPGRADING) {
      this.#handOver(leftover ?? Buffer.alloc(0));
      return;
    }
    this.in.continueParsing();
    this.updateReading();
    if (leftover !== null) this.in.feed(leftover);
  }

  /** An h2c client (prior knowledge) opened with the HTTP/2 preface: the socket and its bytes go to mesh/h2. */
  #h2Preface(): boolean {
    const h2 = this.ctx.h2;
    const head = this.in.unparsed(0);
    if (h2 === undefined || this.served > 0 || !opensH2Preface(head)) return false;
    const bytes = Buffer.from(head);
    this.detachSocket();
    this.state = CLOSING;
    this.in.handOver();
    h2.serve(this.socket, bytes);
    return true;
  }

  /** WebSocket (or other) upgrade: the socket leaves the HTTP path for a tunnel. */
  #handOver(head: Buffer): void {
    const up = this.#upgrade!;
    this.#upgrade = null;
    this.detachSocket();
    this.state = CLOSING;
    // The stream is read by the tunnel from here on.
    this.in.handOver();
    handleUpgrade(this.ctx, { method: METHODS[up.method] ?? 'GET', url: up.url, rawHeaders: up.headers }, this.socket, head, this.#info);
  }
}
