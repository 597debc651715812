// One keep-alive TCP connection to a replica: a raw socket whose responses llhttp parses for the attempt using it.

import { type Socket, connect } from 'node:net';
import { PROCEED, type ParseError, type ParseSink, ParsedSocket, type ReadPath } from './llhttp.ts';
import { UPSTREAM_CLOSED } from './retry.ts';
import { clock } from './ticker.ts';
import { type HeadMemo, newHeadMemo } from './response-head.ts';

/** Response heads larger than this are refused as invalid (node's client default is 16 KiB; apps send big cookies). */
const MAX_RESPONSE_HEAD = 32 * 1024;

/** The request attempt a connection carries, as the connection and its pool drive it (HttpAttempt). */
export interface UpstreamAttempt {
  /** The final response was parsed to its end: bytes parsed after it are not this attempt's. */
  readonly complete: boolean;
  /** The pool handed it this connection (connected, or still connecting). */
  attach(conn: UpstreamConnection): void;
  connected(): void;
  /** A response head: returns PROCEED, or SKIP_BODY for a response without a body. */
  responseHead(status: number, reason: string, headers: string[]): number;
  responseBody(chunk: Buffer): void;
  /** The response ended; `trailers` are a chunked body's trailer fields (`[name, value, ...]`), if it had any. */
  responseComplete(trailers?: string[]): void;
  /** After each read from the replica is parsed. */
  afterRead(): void;
  upstreamDrained(): void;
  upstreamFailed(err: Error | ParseError): void;
  /** Timeouts, checked on every tick while it holds or waits for a connection. */
  checkTimeout(now: number): void;
  /** The pool closed while it waited for a connection. */
  poolClosed(): void;
  /** Counts the connections it makes the pool open (a target service's circuit breaker); absent: no limit. */
  readonly connectionGate?: ConnectionGate | undefined;
  /** The gate refused a new connection and none was idle: answer at once, nothing was sent. */
  connectionRefused?(): void;
}

/** `circuit_breaker.max_connections`: may another upstream connection be opened (counted when yes), and its close. */
export interface ConnectionGate {
  openConnection(): boolean;
  connectionClosed(): void;
}

/** The replica's pool of connections, as one of them sees it (ReplicaPool). */
export interface ConnectionPool {
  readonly host: string;
  readonly port: number;
  readonly readPath: ReadPath;
  /** The connection closed: it leaves the pool. */
  removed(conn: UpstreamConnection): void;
}

type SocketWithOwner = Socket & { owner: UpstreamConnection };

export class UpstreamConnection implements ParseSink {
  readonly pool: ConnectionPool;
  /** The breaker that counted this connection when it was opened; told once when it leaves the pool. */
  gate: ConnectionGate | undefined;
  readonly socket: Socket;
  readonly #in: ParsedSocket;
  connected = false;
  /** When the connect started, for the connect timeout. */
  readonly connectStart: number;
  /** The attempt this connection carries, or null while idle in its pool. */
  attempt: UpstreamAttempt | null = null;
  /** Cannot carry another request (unexpected bytes, parse error, closing): destroyed instead of pooled. */
  broken = false;
  /** Coarse time of the last read, for the attempt's body idle timeout; and since when it is idle in the pool. */
  lastRead = 0;
  idleSince = 0;
  /** How long the replica keeps an idle connection (from its Keep-Alive hint), in ms, or -1 if it did not say. */
  keepAliveMs = -1;
  /** Reading was stopped because the client is not keeping up. */
  paused = false;
  pausedAt = 0;
  /** This replica connection's last response head and what the client got for it (response-head.ts). */
  readonly headMemo: HeadMemo = newHeadMemo();
  /** Response head collected over several reads (large or fragmented heads). */
  #headers: string[] | null = null;
  #lastError: Error | undefined;

  constructor(pool: ConnectionPool) {
    this.pool = pool;
    this.connectStart = performance.now();
    const socket = connect({ host: pool.host, port: pool.port, noDelay: true }) as SocketWithOwner;
    socket.owner = this;
    this.socket = socket;
    this.#in = new ParsedSocket(socket, 'response', MAX_RESPONSE_HEAD, this, pool.readPath);
    socket.on('connect', onConnect);
    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    socket.on('drain', onDrain);
  }

  /** Writes a request (head, or head and body) on the connected socket; false when the kernel buffer is full. */
  write(data: string | Buffer): boolean {
    return typeof data === 'string' ? this.socket.write(data, 'latin1') : this.socket.write(data);
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.pausedAt = clock.now;
    this.#in.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.lastRead = clock.now;
    this.#in.resume();
  }

  destroy(err?: Error): void {
    this.broken = true;
    if (err !== undefined) this.#lastError ??= err;
    this.socket.destroy();
  }

  onConnected(): void {
    this.connected = true;
    this.lastRead = clock.now;
    this.#in.attach();
    this.attempt?.connected();
  }

  // ---- parser events (ParseSink) ----

  /** Head fields llhttp hands over before the head is complete (large or fragmented heads). */
  parsedHeaders(fields: string[]): void {
    if (this.#headers === null) this.#headers = fields;
    else for (const f of fields) this.#headers.push(f);
  }

  parsedHead(
    _major: number,
    _minor: number,
    headers: string[] | undefined,
    _method: number | undefined,
    _url: string | undefined,
    status: number | undefined,
    reason: string | undefined,
    _upgrade: boolean,
    keepAlive: boolean,
  ): number {
    const fields = headers ?? this.#headers ?? [];
    this.#headers = null;
    const attempt = this.attempt;
    // Bytes nobody asked for (an idle connection, or a second response): the connection's framing is unknown now.
    if (attempt === null || attempt.complete) {
      this.broken = true;
      return PROCEED;
    }
    if (!keepAlive) this.broken = true;
    return attempt.responseHead(status!, reason ?? '', fields);
  }

  parsedBody(chunk: Buffer): void {
    const attempt = this.attempt;
    if (attempt !== null && !attempt.complete) attempt.responseBody(chunk);
  }

  parsedMessageComplete(): void {
    // llhttp hands a chunked body's trailer fields over like head fields, just before the message completes.
    const trailers = this.#headers;
    this.#headers = null;
    const attempt = this.attempt;
    if (attempt === null || attempt.complete) this.broken = true;
    else attempt.responseComplete(trailers ?? undefined);
  }

  /** After each parsed read: a parse error fails the attempt; otherwise the attempt flushes what it staged. */
  parsedRead(ret: number | ParseError): void {
    this.#afterRead(ret);
  }

  #afterRead(ret: number | ParseError | undefined): void {
    this.lastRead = clock.now;
    const attempt = this.attempt;
    if (ret !== undefined && typeof ret !== 'number') {
      this.broken = true;
      if (attempt !== null) attempt.upstreamFailed(ret);
      this.socket.destroy();
      return;
    }
    if (attempt !== null) attempt.afterRead();
    else if (this.broken) this.socket.destroy();
  }

  ended(): void {
    // EOF completes a close-delimited response, or shows that one was cut short (that is a close, not bad syntax).
    this.broken = true;
    const ret = this.#in.finish();
    const attempt = this.attempt;
    if (attempt === null) return;
    if (ret !== undefined && typeof ret !== 'number') {
      attempt.upstreamFailed(this.#lastError ?? closedError());
      this.socket.destroy();
      return;
    }
    this.#afterRead(0);
  }

  closed(): void {
    this.broken = true;
    const attempt = this.attempt;
    this.attempt = null;
    this.#in.release();
    this.pool.removed(this);
    if (attempt !== null) {
      attempt.upstreamFailed(this.#lastError ?? closedError());
    }
  }

  lastError(err: Error): void {
    this.#lastError ??= err;
  }
}

function closedError(): Error {
  return Object.assign(new Error('the replica closed the connection'), { code: UPSTREAM_CLOSED });
}

function onConnect(this: SocketWithOwner): void {
  this.owner.onConnected();
}

function onError(this: SocketWithOwner, err: Error): void {
  this.owner.lastError(err);
}

function onEnd(this: SocketWithOwner): void {
  this.owner.ended();
}

function onClose(this: SocketWithOwner): void {
  this.owner.closed();
}

function onDrain(this: SocketWithOwner): void {
  this.owner.attempt?.upstreamDrained();
}
