// Response bytes for one client connection: staged while a replica's read is parsed, then written as one buffer.

import type { Socket } from 'node:net';

/** Whoever stopped reading its replica until the client drains (the attempt streaming the response). */
export interface DrainWaiter {
  clientDrained(): void;
}

export class ResponseWriter {
  readonly #socket: Socket;
  readonly #parts: (string | Buffer)[] = [];
  #bytes = 0;
  /** The attempt whose replica reading is paused until the client drains. */
  #waiter: DrainWaiter | null = null;

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  /** Latin1 text (heads, chunk framing). */
  stage(s: string): void {
    this.#parts.push(s);
    this.#bytes += s.length;
  }

  stageBuffer(b: Buffer): void {
    this.#parts.push(b);
    this.#bytes += b.length;
  }

  /** Drops what is staged and not yet written (an error answer replaces it). */
  discard(): void {
    this.#parts.length = 0;
    this.#bytes = 0;
  }

  /** Writes everything staged as one buffer: one send for a head and the body bytes of the same read. */
  flush(): void {
    const parts = this.#parts;
    const n = parts.length;
    if (n === 0) return;
    const socket = this.#socket;
    if (n === 1) {
      const p = parts[0]!;
      if (typeof p === 'string') socket.write(p, 'latin1');
      else socket.write(p);
    } else {
      const out = Buffer.allocUnsafe(this.#bytes);
      let offset = 0;
      for (let i = 0; i < n; i++) {
        const p = parts[i]!;
        offset += typeof p === 'string' ? out.write(p, offset, 'latin1') : p.copy(out, offset);
      }
      socket.write(out);
    }
    parts.length = 0;
    this.#bytes = 0;
  }

  /** The socket's buffer is over its high-water mark: stop reading the replica until it drains. */
  needsDrain(): boolean {
    return this.#socket.writableNeedDrain;
  }

  waitDrain(attempt: DrainWaiter): void {
    this.#waiter = attempt;
  }

  /** From the socket's 'drain': the waiting attempt reads its replica again. */
  drained(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.clientDrained();
  }

  forget(): void {
    this.#waiter = null;
  }
}
