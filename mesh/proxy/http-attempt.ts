// One try of a request at one replica: takes a pooled connection, writes the request, and streams the parsed response
// to the client connection (head rewritten, body forwarded as it arrives, with backpressure both ways).

import { performance } from 'node:perf_hooks';
import { editHeaders } from '../policy/actions.ts';
import type { AttemptOutcome, Upstream } from '../upstream-pool.ts';
import type { AttemptStats } from './context.ts';
import { PROCEED, type ParseError, SKIP_BODY } from './llhttp.ts';
import type { BodySink } from './request-body.ts';
import type { DrainWaiter } from './response-writer.ts';
import { type AttemptFailure, POOL_CLOSED, classifyError } from './retry.ts';
import type { ReplicaPool } from './upstream-client.ts';
import type { ConnectionGate, UpstreamAttempt, UpstreamConnection } from './upstream-connection.ts';
import { connectionOverflow } from './error-responses.ts';
import { type AttemptOwner, codedError } from './attempt-owner.ts';
import { CLIENT_STALLED, overdue } from './attempt-timeouts.ts';

const CHUNK_END = '\r\n';
const LAST_CHUNK = '0\r\n\r\n';

export class HttpAttempt implements UpstreamAttempt, BodySink, DrainWaiter {
  readonly upstream: Upstream;
  readonly #ex: AttemptOwner;
  readonly #number: number;
  /** performance.now() when the attempt began. */
  readonly #t0: number;
  /** performance.now() by which the response head must have arrived (the exchange's request deadline). */
  readonly #deadline: number;
  #pool: ReplicaPool | undefined;
  conn: UpstreamConnection | null = null;
  /** The request head went to a connected socket: the replica may have it. */
  #sent = false;
  /** The response head was staged for the client: the exchange is committed to this attempt. */
  #responding = false;
  /** The final response was parsed to its end; whatever the connection parses later is not this attempt's. */
  complete = false;
  #ended = false;
  #cancelled = false;
  /** A 1xx head is being parsed: its end is not the response's. */
  #interim = false;
  /** A 502/503 is being read and thrown away because a retry was granted. */
  #discardStatus = 0;
  #status = 0;
  /** performance.now() when the final response head arrived (-1 before): the latency's end. */
  #headAt = -1;
  /** That head came in the replica read now being parsed (cleared by afterRead): its clock read is still "now". */
  #headThisRead = false;
  /** The request, body included, is completely written. */
  #requestSent = false;
  /** The client gets this response re-chunked (the replica sent chunked or close-delimited to an HTTP/1.1 client). */
  #chunked = false;

  constructor(ex: AttemptOwner, upstream: Upstream, number: number, t0: number, deadline: number) {
    this.#ex = ex;
    this.#t0 = t0;
    this.upstream = upstream;
    this.#number = number;
    this.#deadline = deadline;
  }

  dispatch(): void {
    const { ctx } = this.#ex;
    this.#ex.pool.onStart(this.upstream);
    const pool = ctx.clients.get(this.upstream);
    if (pool === undefined) {
      this.upstreamFailed(codedError('the proxy is closed', POOL_CLOSED));
      return;
    }
    this.#pool = pool;
    pool.acquire(this);
  }

  /** The pool handed over a connection (now, or later when one was free). */
  attach(conn: UpstreamConnection): void {
    this.conn = conn;
    if (conn.connected) this.#send();
  }

  connected(): void {
    this.#send();
  }

  #send(): void {
    const ex = this.#ex;
    const conn = this.conn!;
    this.#sent = true;
    const body = ex.body;
    const head = ex.needsHost ? ex.headBase + 'host: ' + this.upstream.host + ':' + this.upstream.port + '\r\n' : ex.headBase;
    let ok: boolean;
    if (body === null) {
      this.#requestSent = true;
      // The prepared head with its blank line when nothing is added (no new string a request); `+`, not a template
      // literal (its ToString call per piece: request-head.ts).
      ok = conn.write(ex.needsHost ? head + '\r\n' : ex.headWire);
    } else {
      const first = body.start(this, head);
      this.#requestSent = first.done;
      ok = conn.write(first.data);
    }
    if (!ok && !this.#requestSent) ex.conn.pauseBody();
  }

  /** A live request body chunk (already framed). */
  sendBody(data: Buffer): void {
    const conn = this.conn;
    if (conn === null) return;
    if (!conn.write(data)) this.#ex.conn.pauseBody();
  }

  endBody(last: string | undefined): void {
    this.#requestSent = true;
    if (last !== undefined) this.conn?.write(last);
  }

  upstreamDrained(): void {
    if (!this.#requestSent) this.#ex.conn.resumeBody();
  }

  /** The client read what was queued: read the replica again. */
  clientDrained(): void {
    this.conn?.resume();
  }

  responseHead(status: number, reason: string, headers: string[]): number {
    const ex = this.#ex;
    if (status < 200) {
      // 100 Continue / 103 are not forwarded (the proxy answered the client's Expect itself); a 101 to a request
      // that asked for no upgrade leaves the connection in an unknown protocol.
      if (status === 101) this.conn?.destroy(codedError('unexpected 101 Switching Protocols', 'HPE_UNEXPECTED_UPGRADE'));
      this.#interim = true;
      return PROCEED;
    }
    this.#headAt = performance.now();
    this.#headThisRead = true;
    this.#status = status;
    const skip = ex.isHead ? SKIP_BODY : PROCEED;
    if (ex.retryableStatus(status) && ex.retryOnStatus(status)) {
      this.#discardStatus = status;
      return skip;
    }
    this.#responding = true;
    const client = ex.conn;
    const conn = this.conn;
    this.#chunked = client.responseHead(ex, status, reason, ex.responseEdits === undefined ? headers : editHeaders(headers, ex.responseEdits), conn?.headMemo);
    const hint = client.responseFacts.keepAliveTimeout;
    if (hint >= 0 && conn !== null) conn.keepAliveMs = hint * 1000;
    return skip;
  }

  responseBody(chunk: Buffer): void {
    if (this.#discardStatus !== 0 || this.#interim) return;
    const ex = this.#ex;
    ex.bytesOut += chunk.length;
    const out = ex.conn.out;
    if (this.#chunked) {
      out.stage(chunk.length.toString(16) + '\r\n');
      out.stageBuffer(chunk);
      out.stage(CHUNK_END);
    } else out.stageBuffer(chunk);
  }

  responseComplete(): void {
    if (this.#interim) {
      this.#interim = false;
      return;
    }
    this.complete = true;
    if (this.#chunked && this.#discardStatus === 0) this.#ex.conn.out.stage(LAST_CHUNK);
  }

  /** After each read from the replica: forward what was staged, then finish or apply backpressure. */
  afterRead(): void {
    const out = this.#ex.conn.out;
    const headThisRead = this.#headThisRead;
    this.#headThisRead = false;
    if (this.#responding) out.flush();
    if (this.complete) {
      this.#completed(headThisRead);
      return;
    }
    if (this.#responding && out.needsDrain()) {
      this.conn!.pause();
      out.waitDrain(this);
    }
  }

  /** `headThisRead`: head and end came in one replica read, so the head's clock read dates the end too (one read less). */
  #completed(headThisRead: boolean): void {
    const ex = this.#ex;
    const conn = this.conn!;
    this.conn = null;
    ex.body?.detach(this);
    // A connection whose request was not completely written cannot carry another request.
    if (!this.#requestSent) conn.broken = true;
    if (this.#discardStatus !== 0) {
      this.#finish('http-5xx');
      this.#pool!.release(conn);
      const failure: AttemptFailure = { phase: 'sent', outcome: 'http-5xx', code: `HTTP ${this.#discardStatus}` };
      this.#report('http-5xx', ex.attemptFailed(this, failure, this.#discardStatus, true));
      return;
    }
    const outcome: AttemptOutcome = this.#status >= 500 ? 'http-5xx' : 'ok';
    this.#finish(outcome);
    this.#pool!.release(conn);
    this.#report(outcome, undefined);
    ex.responseComplete(headThisRead ? this.#headAt : -1);
  }

  /** The connection failed (error, close, parse error, timeout): classify, then let the exchange decide. */
  upstreamFailed(err: Error | ParseError): void {
    if (this.#ended) return;
    const ex = this.#ex;
    this.#release(err);
    if (this.#cancelled) {
      this.#finish('ok');
      return;
    }
    const failure = classifyError(err, this.#sent, this.#responding);
    // Whatever the client already has of this response goes out before the cut.
    if (this.#responding) ex.conn.out.flush();
    this.#finish(failure.outcome);
    this.#report(failure.outcome, ex.attemptFailed(this, failure), failure.code);
  }

  get connectionGate(): ConnectionGate | undefined {
    return this.#ex.connectionGate;
  }

  /**
   * max_connections of the target service reached and no idle connection here: nothing was sent, and no failover
   * (the bound is the service's, not this replica's) — 503 overflow at once. The replica is not blamed.
   */
  connectionRefused(): void {
    if (this.#ended) return;
    this.#finish('ok');
    this.#ex.fail(connectionOverflow(this.#ex.service));
  }

  /** The pool closed while this attempt waited for a connection: nothing was sent, another replica may answer. */
  poolClosed(): void {
    this.upstreamFailed(codedError('the replica left the service', POOL_CLOSED));
  }

  /** The client went away (or sent a bad body): stop, and do not blame the replica. */
  cancel(): void {
    this.#cancelled = true;
    if (this.#ended) return;
    this.#release(undefined);
    this.#finish('ok');
  }

  #release(err: Error | undefined): void {
    this.#ex.body?.detach(this);
    const conn = this.conn;
    if (conn === null) {
      this.#pool?.cancelWaiting(this);
      return;
    }
    this.conn = null;
    conn.attempt = null;
    conn.destroy(err);
  }

  /** Called by the pool's sweep (every tick) while this attempt holds or waits for a connection. */
  checkTimeout(now: number): void {
    if (this.#ended) return;
    const late = overdue(this.conn, this.#responding, this.#deadline, this.#ex.timeouts, now);
    if (late === CLIENT_STALLED) this.#ex.conn.destroy();
    else if (late !== undefined) this.upstreamFailed(late);
  }

  #finish(outcome: AttemptOutcome): void {
    if (this.#ended) return;
    this.#ended = true;
    this.complete = true;
    const latency = (this.#headAt >= 0 ? this.#headAt : performance.now()) - this.#t0;
    this.#ex.pool.onResult(this.upstream, latency, outcome);
    this.#ex.attemptEnded(this.#number);
  }

  #report(outcome: AttemptOutcome, next: 'failover' | 'retry' | 'respond' | undefined, code?: string): void {
    const { ctx } = this.#ex;
    // A first attempt that answered is the request itself, which the request metrics count: not reported, so the
    // common case builds no stats object (onAttempt's metrics count failures and retries).
    if (ctx.onAttempt === undefined || (outcome === 'ok' && this.#number === 1)) return;
    const latencyMs = (this.#headAt >= 0 ? this.#headAt : performance.now()) - this.#t0;
    // The optional fields only when present, set one by one (no spread temporaries: every attempt is reported).
    const stats: AttemptStats = { service: this.#ex.service, upstream: this.upstream.id, attempt: this.#number, outcome, latencyMs };
    if (this.#status !== 0) stats.status = this.#status;
    if (code !== undefined) stats.code = code;
    if (next !== undefined) stats.next = next;
    ctx.onAttempt(stats);
  }
}
