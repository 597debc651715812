// One client connection of the HTTP proxy: llhttp (strict) parses requests straight from the socket, each request
// becomes an Exchange, and responses are written back as single buffers, one request at a time, in order.

import type { Socket } from 'node:net';
import { clientIdentity } from '../tls/identity.ts';
import type { ClientSide, ExchangeView } from './client-side.ts';
import { type ProxyContext, type ServedConnection, countError } from './context.ts';
import { type ProxyError, errorResponse } from './error-responses.ts';
import { type ForwardingInfo, normalizeIp } from './forwarded-headers.ts';
import { Exchange } from './http-exchange.ts';
import { METHODS, PAUSE, PROCEED, type ParseError, type ParseSink, ParsedSocket } from './llhttp.ts';
import { RequestBody } from './request-body.ts';
import { type PreparedRequest, hasBody, newPreparedRequest, prepareRequest } from './request-head.ts';
import { hostCount } from './request-target.ts';
import { type ResponseFacts, clientResponseHead, newResponseFacts } from './response-head.ts';
import { ResponseWriter } from './response-writer.ts';
import { handleUpgrade } from './websocket.ts';

export interface ClientLimits {
  /** Slowloris bound: a request head must arrive within this from its first byte (or from the connection's start). */
  headersTimeoutMs: number;
  /** Bound on receiving a whole request, body included. */
  requestTimeoutMs: number;
  /** Largest request head accepted, in bytes; larger gets 431. */
  maxHeaderSize: number;
  /** Idle keep-alive connections are closed after this. */
  keepAliveTimeoutMs: number;
}

/** Waiting for a request (a fresh connection, or keep-alive between requests). */
const IDLE = 0;
/** Part of a request head has arrived. */
const HEAD = 1;
/** A request is being handled (or the rest of its body discarded after an early response). */
const ACTIVE = 2;
/** Handed to the WebSocket path once the current read is parsed. */
const UPGRADING = 3;
/** Refused or finished: the socket is ending; anything more the client sends is read and dropped. */
const CLOSING = 4;

/** How long a closing connection may keep sending before it is destroyed (nginx's lingering close). */
const LINGER_MS = 2000;
/** How long a closing connection may take to read the end of its response (nginx's send_timeout). */
const SEND_TIMEOUT_MS = 60_000;

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

/** A complete request head whose handling waits for the response before it (pipelining). */
interface ParkedHead {
  major: number;
  minor: number;
  headers: string[];
  method: number;
  url: string;
  upgrade: boolean;
  keepAlive: boolean;
}

type SocketWithOwner = Socket & { owner: ClientConnection };

export class ClientConnection implements ClientSide, ServedConnection, ParseSink {
  readonly ctx: ProxyContext;
  readonly socket: Socket;
  readonly limits: ClientLimits;
  readonly #in: ParsedSocket;
  readonly clientIp: string;
  readonly clientCert: string | undefined;
  readonly out: ResponseWriter;
  readonly #info: ForwardingInfo;
  readonly #request: PreparedRequest = newPreparedRequest();
  readonly responseFacts: ResponseFacts = newResponseFacts();
  #state = IDLE;
  /** When the current state began: idle since, head started, request started, closing since. */
  #since: number;
  #served = 0;
  exchange: Exchange | null = null;
  /** The current request has been received completely (bodiless ones as soon as their head is). */
  #bodyDone = true;
  #http11 = true;
  #keepAlive = true;
  /** The connection ends after the current response. */
  #closeAfter = false;
  /** The client sent FIN. */
  #halfClosed = false;
  #parked: ParkedHead | null = null;
  #leftover: Buffer | null = null;
  #upgrade: ParkedHead | null = null;
  #inExecute = false;
  #nextDeferred = false;
  /** Reading stopped because the request body cannot go anywhere right now. */
  #bodyPaused = false;
  #readingStopped = false;
  /** Head fields and target collected when a head spans reads (parsedHeaders). */
  #headers: string[] | null = null;
  #url = '';

  constructor(ctx: ProxyContext, socket: Socket, limits: ClientLimits) {
    this.ctx = ctx;
    this.socket = socket;
    this.limits = limits;
    this.#since = performance.now();
    this.clientIp = normalizeIp(socket.remoteAddress);
    const id = clientIdentity(socket);
    this.clientCert = id.subject;
    this.#info = { clientIp: this.clientIp, trusted: ctx.trust.has(this.clientIp), proto: id.proto, via: ctx.via, ...(id.xfcc === undefined ? {} : { xfcc: id.xfcc }) };
    this.out = new ResponseWriter(socket);
    (socket as SocketWithOwner).owner = this;
    this.#in = new ParsedSocket(socket, 'request', limits.maxHeaderSize, this, ctx.readPath);
    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    socket.on('drain', onDrain);
    this.#in.attach();
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
    if (this.#state >= UPGRADING) return PAUSE;
    if (this.exchange !== null) {
      // Pipelined: parse no further until the response before it is complete.
      this.#parked = { major, minor, headers: h, method: method ?? 1, url: u, upgrade, keepAlive };
      return PAUSE;
    }
    return this.#start(major, minor, h, method ?? 1, u, upgrade, keepAlive);
  }

  #start(major: number, minor: number, headers: string[], method: number, url: string, upgrade: boolean, keepAlive: boolean): number {
    const { ctx } = this;
    ctx.stats.requests++;
    this.#served++;
    this.#state = ACTIVE;
    this.#since = performance.now();
    this.#http11 = major === 1 && minor >= 1;
    this.#keepAlive = keepAlive;
    const name = METHODS[method] ?? 'GET';
    if (name === 'CONNECT') {
      return this.#refuse({ status: 405, code: 'method-not-allowed', message: 'CONNECT is not supported by a reverse proxy' });
    }
    if (upgrade) {
      if (this.#http11 && hostCount(headers) === 0) return this.#refuse({ status: 400, code: 'bad-request', message: 'missing Host header' });
      this.#upgrade = { major, minor, headers, method, url, upgrade, keepAlive };
      this.#state = UPGRADING;
      return PROCEED;
    }
    const r = this.#request;
    // The policy picks the route first: a rewritten path and edited headers go into the upstream head.
    const decision = ctx.policy?.decide(name, url, headers, this.clientIp);
    const forward = decision?.kind === 'forward' ? decision : undefined;
    const refused = prepareRequest(name, forward?.url ?? url, forward?.headers ?? headers, this.#http11, this.#info, r);
    if (refused !== undefined) {
      forward?.breaker.done(true);
      return this.#refuse(refused);
    }
    let body: RequestBody | null = null;
    // A bodiless request is complete now; its message-complete event is not even asked for (one call less).
    this.#bodyDone = !hasBody(r);
    this.#in.wantMessageComplete(!this.#bodyDone);
    if (!this.#bodyDone) body = new RequestBody(this, r.chunked, r.contentLength);
    const ex = new Exchange(this, name, url, r.head, r.needsHost, body, r.replaySafe, ctx.hashKey?.(headers, this.clientIp), forward);
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
    if (this.#state !== ACTIVE) return;
    const body = this.exchange?.body;
    // No exchange: a response already ended this request; the rest of its body is dropped.
    if (body !== null && body !== undefined) body.push(chunk);
  }

  parsedMessageComplete(): void {
    this.#inExecute = true;
    if (this.#state !== ACTIVE || this.#bodyDone) return;
    this.#bodyDone = true;
    const ex = this.exchange;
    if (ex !== null) ex.body?.end();
    else this.#next();
  }

  parsedRead(ret: number | ParseError): void {
    this.#inExecute = false;
    if (typeof ret !== 'number') {
      if (this.#state === CLOSING) return;
      if (ret.code === 'HPE_PAUSED') {
        if (this.#parked !== null) {
          const rest = this.#in.unparsed(ret.bytesParsed);
          this.#leftover = rest.length > 0 ? rest : null;
          this.#updateReading();
        }
        return;
      }
      this.#parseError(ret);
      return;
    }
    if (this.#state === UPGRADING && this.#upgrade !== null) {
      this.#handOver(this.#in.unparsed(ret));
      return;
    }
    if (this.#nextDeferred) {
      this.#nextDeferred = false;
      this.#next();
    }
    if (this.#state === IDLE && ret > 0 && !this.#in.headersCompleted()) {
      this.#state = HEAD;
      this.#since = performance.now();
    }
  }

  #parseError(err: ParseError): void {
    const ex = this.exchange;
    const e: ProxyError =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? { status: 431, code: 'bad-request', message: 'request header fields too large' }
        : { status: 400, code: 'bad-request', message: `malformed request (${err.code})` };
    if (ex === null) {
      if (this.#state === ACTIVE) {
        // The rest of a body we were discarding is malformed: nothing more can be read from this client.
        this.destroy();
        return;
      }
      this.#refuse(e);
      return;
    }
    if (!this.#bodyDone) {
      // This request's own body is malformed (bad chunking): it must not complete upstream.
      if (ex.headSent) this.destroy();
      else ex.refuse(e);
      return;
    }
    // The bytes after a complete request are bad: answer that request, then close without reading further.
    this.#closeAfter = true;
    this.#stopReading();
  }

  // ---- responses ----

  /** Stages the client response head; returns true when the body must be re-chunked. */
  responseHead(ex: ExchangeView, status: number, reason: string, headers: string[]): boolean {
    const facts = this.responseFacts;
    let head = clientResponseHead(status, reason, headers, facts);
    const bodyless = ex.isHead || status === 204 || status === 304;
    let chunked = false;
    if (!bodyless && !facts.contentLength) {
      // Chunked or close-delimited upstream: HTTP/1.1 clients get chunks (the connection stays usable), 1.0 an EOF.
      if (this.#http11) {
        head += 'transfer-encoding: chunked\r\n';
        chunked = true;
      } else this.#closeAfter = true;
    }
    head += this.#connectionHeader();
    this.out.stage(head);
    ex.status = status;
    ex.headSent = true;
    return chunked;
  }

  #connectionHeader(): string {
    if (this.#closeAfter || !this.#keepAlive || this.ctx.draining || this.#halfClosed) {
      this.#closeAfter = true;
      return 'connection: close\r\n\r\n';
    }
    return this.#http11 ? '\r\n' : 'connection: keep-alive\r\n\r\n';
  }

  /** The proxy's own answer for the current exchange (connection closed after it unless all is clean). */
  sendError(ex: ExchangeView, e: ProxyError): void {
    this.sendAnswer(ex, e.status, (close) => errorResponse(e, close));
  }

  sendAnswer(ex: ExchangeView, status: number, render: (close: boolean) => string): void {
    if (ex.headSent) {
      this.destroy();
      return;
    }
    // An unread request body would have to be drained before the connection could carry another request.
    const close = !this.#bodyDone || this.#closeAfter || !this.#keepAlive || this.ctx.draining || this.#halfClosed;
    if (close) this.#closeAfter = true;
    const out = this.out;
    out.discard();
    out.stage(render(close));
    out.flush();
    ex.status = status;
    ex.headSent = true;
    ex.responseComplete();
  }

  /** The exchange's response is complete: settle it, then close, discard the rest of its body, or go on. */
  exchangeDone(ex: ExchangeView): void {
    this.exchange = null;
    this.out.forget();
    ex.closed();
    if (this.#bodyPaused) {
      this.#bodyPaused = false;
      this.#updateReading();
    }
    if (this.#closeAfter) {
      this.#end();
      return;
    }
    if (!this.#bodyDone) return;
    if (this.#inExecute) this.#nextDeferred = true;
    else this.#next();
  }

  /** Between requests: close, start a parked (pipelined) head, or wait idle. */
  #next(): void {
    if (this.#state === CLOSING || this.socket.destroyed) return;
    if (this.#halfClosed) {
      this.#end();
      return;
    }
    const parked = this.#parked;
    if (parked === null) {
      this.#state = IDLE;
      this.#since = performance.now();
      return;
    }
    this.#parked = null;
    const leftover = this.#leftover;
    this.#leftover = null;
    const r = this.#start(parked.major, parked.minor, parked.headers, parked.method, parked.url, parked.upgrade, parked.keepAlive);
    // Refused, or answered at once with the connection closing: nothing after it is parsed.
    if (r === PAUSE || this.#state === CLOSING) return;
    if (this.#state === UPGRADING) {
      this.#handOver(leftover ?? Buffer.alloc(0));
      return;
    }
    this.#in.continueParsing();
    this.#updateReading();
    if (leftover !== null) this.#in.feed(leftover);
  }

  // ---- request body flow control ----

  pauseBody(): void {
    if (this.#bodyPaused) return;
    this.#bodyPaused = true;
    this.#updateReading();
  }

  resumeBody(): void {
    if (!this.#bodyPaused) return;
    this.#bodyPaused = false;
    this.#updateReading();
  }

  #updateReading(): void {
    const stop = this.#bodyPaused || this.#parked !== null;
    if (stop === this.#readingStopped) return;
    this.#readingStopped = stop;
    if (stop) this.#in.pause();
    else this.#in.resume();
  }

  #stopReading(): void {
    this.#readingStopped = true;
    this.#in.pause();
  }

  // ---- ending ----

  /** Refuses the request being parsed: answer, close, and read nothing more as a request. */
  #refuse(e: ProxyError): number {
    countError(this.ctx, e.status);
    this.#state = CLOSING;
    this.#since = performance.now();
    this.#parked = null;
    if (!this.socket.writable) this.socket.destroy();
    else this.socket.end(errorResponse(e, true), 'latin1');
    return PAUSE;
  }

  /** Ends the connection after what was written; a client still sending gets LINGER_MS before it is cut. */
  #end(): void {
    this.#state = CLOSING;
    this.#since = performance.now();
    this.#parked = null;
    this.socket.end();
  }

  destroy(): void {
    this.#state = CLOSING;
    this.socket.destroy();
  }

  /** Closes the connection if it waits for a request (listener drain). */
  closeIfIdle(): void {
    if (this.#state === IDLE) this.destroy();
  }

  /**
   * The client sent FIN. Like nginx (and node:http), a FIN while a request is in flight is taken as the client giving
   * up: a client that has gone away looks no different on the wire, and its upstream request should not run on.
   */
  ended(): void {
    this.#halfClosed = true;
    if (this.#state === UPGRADING) return;
    if (this.#state === ACTIVE || this.#state === CLOSING) {
      this.socket.destroy();
      return;
    }
    this.#end();
  }

  closed(): void {
    this.#state = CLOSING;
    this.ctx.connections.delete(this);
    this.#parked = null;
    this.out.forget();
    const ex = this.exchange;
    this.exchange = null;
    if (ex !== null) ex.abort();
    this.#in.release();
  }

  /** Timeouts, checked every tick (no timer per request or connection). */
  sweep(now: number): void {
    const elapsed = now - this.#since;
    const l = this.limits;
    switch (this.#state) {
      case IDLE:
        if (this.#served === 0) {
          if (elapsed >= l.headersTimeoutMs) this.#timeout();
        } else if (elapsed >= l.keepAliveTimeoutMs) this.destroy();
        return;
      case HEAD:
        if (elapsed >= l.headersTimeoutMs) this.#timeout();
        return;
      case ACTIVE:
        if (!this.#bodyDone && elapsed >= l.requestTimeoutMs) {
          const ex = this.exchange;
          if (ex === null) this.destroy();
          else if (ex.headSent) this.destroy();
          else ex.refuse({ status: 408, code: 'bad-request', message: 'request not received in time' });
        }
        return;
      case CLOSING:
        if ((elapsed >= LINGER_MS && this.socket.writableLength === 0) || elapsed >= SEND_TIMEOUT_MS) this.socket.destroy();
        return;
    }
  }

  #timeout(): void {
    this.#refuse({ status: 408, code: 'bad-request', message: 'request head not received in time' });
  }

  /** WebSocket (or other) upgrade: the socket leaves the HTTP path for a tunnel. */
  #handOver(head: Buffer): void {
    const up = this.#upgrade!;
    this.#upgrade = null;
    const socket = this.socket;
    socket.off('error', onError);
    socket.off('end', onEnd);
    socket.off('close', onClose);
    socket.off('drain', onDrain);
    this.ctx.connections.delete(this);
    this.#state = CLOSING;
    // The stream is read by the tunnel from here on.
    this.#in.handOver();
    handleUpgrade(this.ctx, { method: METHODS[up.method] ?? 'GET', url: up.url, rawHeaders: up.headers }, socket, head);
  }
}

function onError(this: SocketWithOwner): void {
  // 'close' follows and settles everything.
}

function onEnd(this: SocketWithOwner): void {
  this.owner.ended();
}

function onClose(this: SocketWithOwner): void {
  this.owner.closed();
}

function onDrain(this: SocketWithOwner): void {
  this.owner.out.drained();
}
