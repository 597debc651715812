// The client's request body as attempts see it: small bodies kept so a retry can replay them, large ones streamed with
// backpressure and never held in memory, with exact knowledge of whether a byte has left for an upstream.

/** The client connection's reading, which a body that cannot go anywhere yet holds back. */
export interface BodyFlow {
  pauseBody(): void;
  resumeBody(): void;
}

/** The attempt sending the body upstream (already framed). */
export interface BodySink {
  sendBody(data: Buffer): void;
  /** The body is complete; `last` is the closing chunk when the body goes chunked. */
  endBody(last: string | undefined): void;
}

/** Bodies up to this size are kept for replay; beyond it a request can only fail over before its first byte is read. */
export const REPLAY_LIMIT = 64 * 1024;

const CRLF = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK = '0\r\n\r\n';

/**
 * Fed by the client connection's parser (push / end), drained by at most one attempt at a time (its sink). Framing
 * upstream is the proxy's own: Content-Length as received, or chunked when the client sent chunked and the body is
 * still arriving (a chunked body that is complete before the first attempt goes out with its length instead).
 */
export class RequestBody {
  readonly #conn: BodyFlow;
  readonly #chunkedIn: boolean;
  readonly #prefix: Buffer[] = [];
  #prefixBytes = 0;
  /** Chunks are still being kept for replay (false from the start when Content-Length exceeds the limit). */
  #keeping: boolean;
  /** Chunks past the kept prefix that arrived while no attempt was sending (the client is paused meanwhile). */
  #pending: Buffer[] = [];
  #sink: BodySink | null = null;
  #sinkChunked = false;
  #onReady: (() => void) | null = null;
  /** The whole body has arrived. */
  complete = false;
  /** A chunk beyond the kept prefix was handed to an attempt: the body can no longer be replayed. */
  consumed = false;

  constructor(conn: BodyFlow, chunked: boolean, contentLength: number) {
    this.#conn = conn;
    this.#chunkedIn = chunked;
    this.#keeping = !(contentLength > REPLAY_LIMIT);
  }

  get replayable(): boolean {
    return !this.consumed;
  }

  /** The first attempt may start: the body is complete, or too large to wait for. */
  get ready(): boolean {
    return this.complete || !this.#keeping;
  }

  /** Calls back once when `ready` turns true (only asked while it is false). */
  whenReady(cb: () => void): void {
    this.#onReady = cb;
  }

  push(chunk: Buffer): void {
    if (this.#keeping) {
      this.#prefix.push(chunk);
      this.#prefixBytes += chunk.length;
      if (this.#sink !== null) this.#sink.sendBody(this.#frame(chunk));
      if (this.#prefixBytes > REPLAY_LIMIT) {
        this.#keeping = false;
        this.#ready();
      }
      return;
    }
    if (this.#sink !== null) {
      this.consumed = true;
      this.#sink.sendBody(this.#frame(chunk));
      return;
    }
    this.#pending.push(chunk);
    this.#conn.pauseBody();
  }

  end(): void {
    this.complete = true;
    if (this.#sink !== null) this.#sink.endBody(this.#sinkChunked ? LAST_CHUNK : undefined);
    else this.#ready();
  }

  #ready(): void {
    const cb = this.#onReady;
    this.#onReady = null;
    cb?.();
  }

  #frame(chunk: Buffer): Buffer {
    if (!this.#sinkChunked) return chunk;
    return Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'), chunk, CRLF]);
  }

  /**
   * What an attempt writes first: its request head (`head`, without the blank line) with framing, and every body
   * byte held so far. If the body is still arriving, the attempt becomes the sink for the rest. `done` reports
   * whether the body is complete with this write.
   */
  start(attempt: BodySink, head: string): { data: Buffer; done: boolean } {
    const parts: Buffer[] = [];
    let bytes = 0;
    const add = (b: Buffer): void => {
      parts.push(b);
      bytes += b.length;
    };
    const whole = this.complete && this.#pending.length === 0;
    this.#sinkChunked = this.#chunkedIn && !whole;
    let framing = '\r\n';
    if (this.#chunkedIn) framing = whole ? `content-length: ${this.#prefixBytes}\r\n\r\n` : 'transfer-encoding: chunked\r\n\r\n';
    add(Buffer.from(head + framing, 'latin1'));
    for (const b of this.#prefix) add(this.#frame(b));
    if (this.#pending.length > 0) {
      this.consumed = true;
      for (const b of this.#pending) add(this.#frame(b));
      this.#pending = [];
      // Nothing kept can be replayed any more: the memory is better released.
      this.#prefix.length = 0;
    }
    if (this.complete) {
      if (this.#sinkChunked) add(Buffer.from(LAST_CHUNK, 'latin1'));
    } else {
      this.#sink = attempt;
      this.#conn.resumeBody();
    }
    return { data: parts.length === 1 ? parts[0]! : Buffer.concat(parts, bytes), done: this.complete };
  }

  /** The attempt stopped sending (failed, finished early, cancelled): later chunks wait for the next one, if any. */
  detach(attempt: BodySink): void {
    if (this.#sink === attempt) this.#sink = null;
  }
}
