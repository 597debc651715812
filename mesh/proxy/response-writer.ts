// Response bytes for one client connection: staged while a replica's read is parsed, then written as one buffer.

import type { Socket } from 'node:net';

/** Whoever stopped reading its replica until the client drains (the attempt streaming the response). */
export interface DrainWaiter {
  clientDrained(): void;
}

/** Strings up to this long are copied byte by byte in JS (a native call per piece costs more than the loop). */
const SHORT = 48;

export class ResponseWriter {
  readonly #socket: Socket;
  /** Staged pieces; slots are reused (never truncated), so staging a response allocates nothing. */
  readonly #parts: (string | Buffer)[] = [];
  #count = 0;
  #bytes = 0;
  /** The attempt whose replica reading is paused until the client drains. */
  #waiter: DrainWaiter | null = null;

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  /** Latin1 text (heads, chunk framing). */
  stage(s: string): void {
    this.#parts[this.#count++] = s;
    this.#bytes += s.length;
  }

  stageBuffer(b: Buffer): void {
    this.#parts[this.#count++] = b;
    this.#bytes += b.length;
  }

  /** Drops what is staged and not yet written (an error answer replaces it). */
  discard(): void {
    this.#clear();
  }

  /** Writes everything staged as one buffer: one send for a head and the body bytes of the same read. */
  flush(): void {
    const n = this.#count;
    if (n === 0) return;
    const parts = this.#parts;
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
        if (typeof p !== 'string') {
          out.set(p, offset);
          offset += p.length;
        } else if (p.length <= SHORT) {
          for (let j = 0; j < p.length; j++) out[offset++] = p.charCodeAt(j);
        } else offset += out.write(p, offset, 'latin1');
      }
      socket.write(out);
    }
    this.#clear();
  }

  #clear(): void {
    // The slots stay (no reallocation next time) but hold nothing of this response: an idle connection keeps no body.
    const parts = this.#parts;
    for (let i = 0; i < this.#count; i++) parts[i] = '';
    this.#count = 0;
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
