// One HTTP/2 stream's attempt at an HTTP/1.1 replica, on a connection of the proxy's shared keep-alive pools
// (UpstreamClients, llhttp-parsed): the request goes out in one write once connected (head and any body already
// received), the response streams to the sink, and chunked trailers become HTTP/2 trailers.

import type { MeshSpec } from '../../daemon/api/project.ts';
import { codedError } from '../proxy/attempt-owner.ts';
import { PROCEED, type ParseError, SKIP_BODY } from '../proxy/llhttp.ts';
import { keepAliveHint } from '../proxy/response-head.ts';
import { BODY_TIMEOUT, CONNECT_TIMEOUT, POOL_CLOSED, classifyError } from '../proxy/retry.ts';
import type { ReplicaPool } from '../proxy/upstream-client.ts';
import type { UpstreamAttempt, UpstreamConnection } from '../proxy/upstream-connection.ts';
import { type CallRequest, type CallSink, type UpstreamCall, h2ResponseHeaders } from './call.ts';

const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n\r\n';
/** Methods whose request content has a meaning: sent with `content-length: 0` when the stream carried none. */
const CONTENT_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

export type CallTimeouts = Pick<MeshSpec['timeouts'], 'connectMs' | 'idleMs'>;

/**
 * The HTTP/1.1 head for `req`, without its blank line. Its fields were checked where they entered (nghttp2 refuses
 * CR, LF, NUL and spaces in HTTP/2 fields and `:path`, llhttp in HTTP/1.1 ones, the config loader in route edits).
 */
export function h1RequestHead(req: CallRequest): { head: string; chunked: boolean } {
  let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
  let length = false;
  const h = req.headers;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    const value = h[i + 1]!;
    if (!length && name.length === 14 && name.toLowerCase() === 'content-length') length = true;
    head += `${name}: ${value}\r\n`;
  }
  // HTTP/2 frames the body itself: without a length, HTTP/1.1 needs chunks.
  const chunked = !req.noBody && !length;
  if (chunked) head += 'transfer-encoding: chunked\r\n';
  else if (req.noBody && !length && CONTENT_METHODS.has(req.method)) head += 'content-length: 0\r\n';
  return { head, chunked };
}

export class H1Call implements UpstreamAttempt, UpstreamCall {
  readonly #sink: CallSink;
  readonly #timeouts: CallTimeouts;
  readonly #head: string;
  readonly #chunked: boolean;
  readonly #isHead: boolean;
  #pool: ReplicaPool | undefined;
  #conn: UpstreamConnection | null = null;
  /** Body bytes (framed) that arrived before the connection was ready. */
  #pending: (string | Buffer)[] = [];
  #bodyEnded: boolean;
  /** The request head went to a connected socket: the replica may have it. */
  #sent = false;
  #responding = false;
  #interim = false;
  #trailers: string[] | undefined;
  /** No more sink calls: finished, failed or cancelled. */
  #done = false;
  complete = false;

  constructor(req: CallRequest, head: { head: string; chunked: boolean }, sink: CallSink, timeouts: CallTimeouts) {
    this.#sink = sink;
    this.#timeouts = timeouts;
    this.#head = `${head.head}\r\n`;
    this.#chunked = head.chunked;
    this.#isHead = req.method === 'HEAD';
    this.#bodyEnded = req.noBody;
  }

  /** Takes a connection of `pool` (idle, new, or the next one released). */
  start(pool: ReplicaPool): void {
    this.#pool = pool;
    pool.acquire(this);
  }

  // ---- UpstreamCall (the stream's side) ----

  write(chunk: Buffer): void {
    if (this.#done || this.#bodyEnded || chunk.length === 0) return;
    if (this.#chunked) this.#out(`${chunk.length.toString(16)}\r\n`, chunk, CRLF);
    else this.#out(chunk);
  }

  end(): void {
    if (this.#done || this.#bodyEnded) return;
    this.#bodyEnded = true;
    if (this.#chunked) this.#out(LAST_CHUNK);
  }

  pause(): void {
    this.#conn?.pause();
  }

  resume(): void {
    this.#conn?.resume();
  }

  cancel(): void {
    if (this.#done) return;
    this.#done = true;
    this.complete = true;
    this.#drop(undefined);
  }

  #out(...parts: (string | Buffer)[]): void {
    const conn = this.#conn;
    if (!this.#sent || conn === null) {
      this.#pending.push(...parts);
      return;
    }
    if (parts.length === 1) {
      conn.write(parts[0]!);
      return;
    }
    // A chunk's size line, data and CRLF leave as one segment.
    conn.socket.cork();
    for (const p of parts) conn.write(p);
    conn.socket.uncork();
  }

  // ---- UpstreamAttempt (the pool's and the connection's side) ----

  attach(conn: UpstreamConnection): void {
    this.#conn = conn;
    if (conn.connected) this.connected();
  }

  connected(): void {
    const conn = this.#conn!;
    this.#sent = true;
    const pending = this.#pending;
    this.#pending = [];
    if (pending.length === 0) {
      conn.write(this.#head);
      return;
    }
    // One write for head and body received so far (a small unary call is then a single segment).
    conn.write(Buffer.concat([Buffer.from(this.#head, 'latin1'), ...pending.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p))]));
  }

  responseHead(status: number, _reason: string, headers: string[]): number {
    if (status < 200) {
      // 1xx are not forwarded; a 101 nobody asked for leaves the connection in an unknown protocol.
      if (status === 101) this.#conn?.destroy(codedError('unexpected 101 Switching Protocols', 'HPE_UNEXPECTED_UPGRADE'));
      this.#interim = true;
      return PROCEED;
    }
    this.#responding = true;
    const conn = this.#conn;
    if (conn !== null) {
      for (let i = 0; i < headers.length; i += 2) {
        if (headers[i]!.length === 10 && headers[i]!.toLowerCase() === 'keep-alive') {
          const s = keepAliveHint(headers[i + 1]!);
          if (s >= 0) conn.keepAliveMs = s * 1000;
        }
      }
    }
    // The sink may cancel this call (a 502/503 to retry elsewhere): the connection is then dropped.
    this.#sink.response(status, h2ResponseHeaders(headers));
    return this.#isHead ? SKIP_BODY : PROCEED;
  }

  responseBody(chunk: Buffer): void {
    if (this.#done || this.#interim) return;
    if (!this.#sink.data(chunk)) this.#conn?.pause();
  }

  responseComplete(trailers?: string[]): void {
    if (this.#interim) {
      this.#interim = false;
      return;
    }
    this.complete = true;
    this.#trailers = trailers;
  }

  /** After each parsed read: a complete response gives the connection back, then ends the stream. */
  afterRead(): void {
    if (!this.complete || this.#done) return;
    this.#done = true;
    const conn = this.#conn!;
    this.#conn = null;
    // A connection whose request was not completely written cannot carry another request.
    if (!this.#bodyEnded) conn.broken = true;
    this.#pool!.release(conn);
    const t = this.#trailers;
    this.#sink.end(t === undefined || t.length === 0 ? undefined : h2ResponseHeaders(t));
  }

  upstreamDrained(): void {}

  upstreamFailed(err: Error | ParseError): void {
    if (this.#done) return;
    this.#done = true;
    this.complete = true;
    this.#drop(err as Error);
    const f = classifyError(err, this.#sent, this.#responding);
    this.#sink.failed(f.phase, f.outcome === 'http-5xx' || f.outcome === 'ok' ? 'reset' : f.outcome, f.code);
  }

  /** The stream's own timer bounds the wait for a connection and for the head; these are the connection's. */
  checkTimeout(now: number): void {
    const conn = this.#conn;
    if (this.#done || conn === null) return;
    const { connectMs, idleMs } = this.#timeouts;
    if (!conn.connected) {
      if (now - conn.connectStart >= connectMs) this.upstreamFailed(codedError(`connect timed out after ${connectMs}ms`, CONNECT_TIMEOUT));
      return;
    }
    if (!this.#responding) return;
    const since = conn.paused ? conn.pausedAt : conn.lastRead;
    if (now - since >= idleMs) this.upstreamFailed(codedError(conn.paused ? `the client read nothing for ${idleMs}ms` : `no response data for ${idleMs}ms`, BODY_TIMEOUT));
  }

  poolClosed(): void {
    this.upstreamFailed(codedError('the replica left the service', POOL_CLOSED));
  }

  /** Gives up the connection mid-request (it cannot be reused) or the place in the pool's queue. */
  #drop(err: Error | undefined): void {
    const conn = this.#conn;
    this.#pending = [];
    if (conn === null) {
      this.#pool?.cancelWaiting(this);
      return;
    }
    this.#conn = null;
    conn.attempt = null;
    conn.destroy(err);
  }
}
