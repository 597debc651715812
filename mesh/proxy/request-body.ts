// The client's request body as attempts see it: small bodies buffered so a retry can replay them, large ones streamed
// with backpressure and never held in memory, with exact knowledge of whether a byte has left for an upstream.

import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

/** Bodies up to this size are kept for replay; beyond it a request can only fail over before its first byte is read. */
export const REPLAY_LIMIT = 64 * 1024;

export function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
}

export class RequestBody {
  readonly #req: IncomingMessage;
  readonly prefix: Buffer[] = [];
  #prefixBytes = 0;
  /** The whole body is in `prefix`. */
  complete = false;
  /** A chunk beyond the kept prefix was handed to an attempt: the body can no longer be replayed. */
  consumed = false;
  #buffer: Buffer | undefined;
  #failed: Error | undefined;

  constructor(req: IncomingMessage) {
    this.#req = req;
  }

  get replayable(): boolean {
    return !this.consumed && this.#failed === undefined;
  }

  /**
   * Reads ahead up to REPLAY_LIMIT (skipped when Content-Length already says it is larger) and calls back once the
   * body ended or the limit was crossed; the stream is left paused for the first attempt to continue from.
   */
  prepare(done: (err?: Error) => void): void {
    const req = this.#req;
    const cl = Number(req.headers['content-length']);
    if (cl > REPLAY_LIMIT) {
      done();
      return;
    }
    const finish = (err?: Error): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      if (err !== undefined) this.#failed = err;
      else if (!this.complete) req.pause();
      done(err);
    };
    const onData = (chunk: Buffer): void => {
      this.prefix.push(chunk);
      this.#prefixBytes += chunk.length;
      if (this.#prefixBytes > REPLAY_LIMIT) finish();
    };
    const onEnd = (): void => {
      this.complete = true;
      finish();
    };
    const onError = (err: Error): void => finish(err);
    const onAborted = (): void => finish(new Error('client aborted the request body'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  }

  /** What one attempt sends: null, the buffered bytes, or a fresh stream that replays the prefix then continues live. */
  forAttempt(): Buffer | Readable | null {
    if (this.complete) {
      if (this.#prefixBytes === 0) return null;
      this.#buffer ??= this.prefix.length === 1 ? this.prefix[0]! : Buffer.concat(this.prefix, this.#prefixBytes);
      return this.#buffer;
    }
    return new AttemptBody(this, this.#req);
  }
}

/**
 * A per-attempt Readable so undici never owns the client's IncomingMessage: if an attempt is destroyed, the client
 * connection survives to receive a 502 (destroying an unfinished IncomingMessage would reset the socket instead).
 */
class AttemptBody extends Readable {
  readonly #src: RequestBody;
  readonly #req: IncomingMessage;
  #next = 0;
  #attached = false;

  constructor(src: RequestBody, req: IncomingMessage) {
    super({ highWaterMark: 64 * 1024 });
    this.#src = src;
    this.#req = req;
  }

  override _read(): void {
    const prefix = this.#src.prefix;
    if (this.#next < prefix.length) {
      this.push(prefix[this.#next++]);
      return;
    }
    if (!this.#attached) {
      this.#attached = true;
      const req = this.#req;
      if (req.readableEnded) {
        this.push(null);
        return;
      }
      req.on('data', this.#onData);
      req.on('end', this.#onEnd);
      req.on('error', this.#onError);
      req.on('aborted', this.#onAborted);
    }
    this.#req.resume();
  }

  #onData = (chunk: Buffer): void => {
    this.#src.consumed = true;
    if (!this.push(chunk)) this.#req.pause();
  };

  #onEnd = (): void => {
    this.push(null);
  };

  #onError = (err: Error): void => {
    this.destroy(err);
  };

  #onAborted = (): void => {
    this.destroy(new Error('client aborted the request body'));
  };

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const req = this.#req;
    req.off('data', this.#onData);
    req.off('end', this.#onEnd);
    req.off('error', this.#onError);
    req.off('aborted', this.#onAborted);
    // Flowing mode survives removing the listener; pause so no chunk is lost before a retry attaches.
    if (!req.readableEnded) req.pause();
    cb(err);
  }
}
