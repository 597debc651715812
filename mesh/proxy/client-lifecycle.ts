// The half of a client connection that answers and ends it: response heads and the proxy's own answers, request-body
// flow control, closing (refuse, end, linger) and the per-tick timeouts. ClientConnection adds the request parsing.

import type { Socket } from 'node:net';
import type { ClientSide, ExchangeView } from './client-side.ts';
import { type ProxyContext, type ServedConnection, countError } from './context.ts';
import { type ProxyError, errorResponse } from './error-responses.ts';
import type { Exchange } from './http-exchange.ts';
import { PAUSE, type ParsedSocket } from './llhttp.ts';
import { type HeadMemo, type ResponseFacts, clientResponseHead, headWithTrailer, memoResponseHead, newResponseFacts } from './response-head.ts';
import { ResponseWriter } from './response-writer.ts';
import { ACTIVE, CLOSING, type ClientLimits, HEAD, IDLE, LINGER_MS, type ParkedHead, SEND_TIMEOUT_MS, UPGRADING } from './client-state.ts';

type SocketWithOwner = Socket & { owner: ClientLifecycle };

const END = '\r\n';
const CLOSE = 'connection: close\r\n\r\n';
const KEEP_ALIVE = 'connection: keep-alive\r\n\r\n';
const CHUNKED_END = 'transfer-encoding: chunked\r\n\r\n';
const CHUNKED_CLOSE = 'transfer-encoding: chunked\r\nconnection: close\r\n\r\n';

export abstract class ClientLifecycle implements ClientSide, ServedConnection {
  readonly ctx: ProxyContext;
  readonly socket: Socket;
  readonly limits: ClientLimits;
  readonly clientIp: string;
  /** Subject of the verified client certificate on a TLS listener (set by the connection that parses). */
  abstract readonly clientCert: string | undefined;
  readonly out: ResponseWriter;
  readonly responseFacts: ResponseFacts = newResponseFacts();
  protected abstract readonly in: ParsedSocket;
  protected state = IDLE;
  /** When the current state began: idle since, head started, request started, closing since. */
  protected since: number;
  protected served = 0;
  exchange: Exchange | null = null;
  /** The current request has been received completely (bodiless ones as soon as their head is). */
  protected bodyDone = true;
  protected http11 = true;
  protected keepAlive = true;
  /** The connection ends after the current response. */
  protected closeAfter = false;
  /** The client sent FIN. */
  protected halfClosed = false;
  protected parked: ParkedHead | null = null;
  /** When the last exchange was settled, for `next`'s idle-since (-1: read the clock). */
  protected settledAt = -1;
  /** Reading stopped because the request body cannot go anywhere right now. */
  #bodyPaused = false;
  #readingStopped = false;

  constructor(ctx: ProxyContext, socket: Socket, limits: ClientLimits, clientIp: string) {
    this.ctx = ctx;
    this.socket = socket;
    this.limits = limits;
    this.since = performance.now();
    this.clientIp = clientIp;
    this.out = new ResponseWriter(socket);
    (socket as SocketWithOwner).owner = this;
    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    socket.on('drain', onDrain);
  }

  /** Between requests: close, start a parked (pipelined) head, or wait idle. */
  protected abstract next(): void;
  /** Asked when an exchange completes: is the parser inside a read (then `next` waits for the read's end)? */
  protected abstract deferNext(): boolean;

  /** The socket leaves this connection (an upgrade): its HTTP handlers come off. */
  protected detachSocket(): void {
    const socket = this.socket;
    socket.off('error', onError);
    socket.off('end', onEnd);
    socket.off('close', onClose);
    socket.off('drain', onDrain);
    this.ctx.connections.delete(this);
  }

  // ---- responses ----

  /**
   * Stages the client response head; returns true when the body must be re-chunked. `memo`: the replica
   * connection's last head (HeadMemo), reused when this one is the same.
   */
  responseHead(ex: ExchangeView, status: number, reason: string, headers: string[], memo: HeadMemo | undefined): boolean {
    const facts = this.responseFacts;
    const head = memo === undefined ? clientResponseHead(status, reason, headers, facts) : memoResponseHead(status, reason, headers, facts, memo);
    const bodyless = ex.isHead || status === 204 || status === 304;
    let chunked = false;
    if (!bodyless && !facts.contentLength) {
      // Chunked or close-delimited upstream: HTTP/1.1 clients get chunks (the connection stays usable), 1.0 an EOF.
      if (this.http11) chunked = true;
      else this.closeAfter = true;
    }
    const trailer = this.#trailer(chunked);
    this.out.stage(memo === undefined ? head + trailer : headWithTrailer(memo, head, trailer));
    ex.status = status;
    ex.headSent = true;
    return chunked;
  }

  /** The head's last lines: chunked framing, Connection, the blank line (constant strings: the memo compares them). */
  #trailer(chunked: boolean): string {
    if (this.closeAfter || !this.keepAlive || this.ctx.draining) {
      this.closeAfter = true;
      return chunked ? CHUNKED_CLOSE : CLOSE;
    }
    // Only an HTTP/1.1 client gets chunks.
    if (this.http11) return chunked ? CHUNKED_END : END;
    return KEEP_ALIVE;
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
    const close = !this.bodyDone || this.closeAfter || !this.keepAlive || this.ctx.draining;
    if (close) this.closeAfter = true;
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
    this.settledAt = ex.closedAt;
    if (this.#bodyPaused) {
      this.#bodyPaused = false;
      this.updateReading();
    }
    if (this.closeAfter) {
      this.end();
      return;
    }
    if (!this.bodyDone) return;
    if (!this.deferNext()) this.next();
  }

  // ---- request body flow control ----

  pauseBody(): void {
    if (this.#bodyPaused) return;
    this.#bodyPaused = true;
    this.updateReading();
  }

  resumeBody(): void {
    if (!this.#bodyPaused) return;
    this.#bodyPaused = false;
    this.updateReading();
  }

  protected updateReading(): void {
    const stop = this.#bodyPaused || this.parked !== null;
    if (stop === this.#readingStopped) return;
    this.#readingStopped = stop;
    if (stop) this.in.pause();
    else this.in.resume();
  }

  protected stopReading(): void {
    this.#readingStopped = true;
    this.in.pause();
  }

  // ---- ending ----

  /** Refuses the request being parsed: answer, close, and read nothing more as a request. */
  protected refuse(e: ProxyError): number {
    countError(this.ctx, e.status);
    this.state = CLOSING;
    this.since = performance.now();
    this.parked = null;
    if (!this.socket.writable) this.socket.destroy();
    else this.socket.end(errorResponse(e, true), 'latin1');
    return PAUSE;
  }

  /** Ends the connection after what was written; a client still sending gets LINGER_MS before it is cut. */
  protected end(): void {
    this.state = CLOSING;
    this.since = performance.now();
    this.parked = null;
    this.socket.end();
  }

  destroy(): void {
    this.state = CLOSING;
    this.socket.destroy();
  }

  /** Closes the connection if it waits for a request (listener drain). */
  closeIfIdle(): void {
    if (this.state === IDLE) this.destroy();
  }

  /**
   * The client sent FIN: it will send nothing more, but HTTP/1.1 lets it half-close after its requests and still read
   * the answers (`printf 'GET / …' | nc`). Every complete request it sent is answered, then the connection ends
   * (`next`), as HAProxy does; a request cut short by the FIN is dropped. A client that went away entirely looks the
   * same on the wire until a response is written to it (that write fails, and the upstream request is aborted then).
   */
  ended(): void {
    this.halfClosed = true;
    if (this.state === UPGRADING || this.state === CLOSING) return;
    if (this.state === ACTIVE) {
      // Its body can never arrive whole: the upstream request must not complete.
      if (!this.bodyDone) this.socket.destroy();
      return;
    }
    this.end();
  }

  closed(): void {
    this.state = CLOSING;
    this.ctx.connections.delete(this);
    this.parked = null;
    this.out.forget();
    const ex = this.exchange;
    this.exchange = null;
    if (ex !== null) ex.abort();
    this.in.release();
  }

  /** Timeouts, checked every tick (no timer per request or connection). */
  sweep(now: number): void {
    const elapsed = now - this.since;
    const l = this.limits;
    switch (this.state) {
      case IDLE:
        if (this.served === 0) {
          if (elapsed >= l.headersTimeoutMs) this.#timeout();
        } else if (elapsed >= l.keepAliveTimeoutMs) this.destroy();
        return;
      case HEAD:
        if (elapsed >= l.headersTimeoutMs) this.#timeout();
        return;
      case ACTIVE:
        if (!this.bodyDone && elapsed >= l.requestTimeoutMs) {
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
    this.refuse({ status: 408, code: 'bad-request', message: 'request head not received in time' });
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
