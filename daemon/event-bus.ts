// Fans DaemonEvents out to subscribers; each has a bounded queue so a slow client drops events instead of growing memory.

import type { DaemonEvent } from './api/events.ts';

export interface SubscribeOptions {
  filter?: (event: DaemonEvent) => boolean;
  /** Max queued events before the oldest are dropped (default 1000). */
  limit?: number;
  signal?: AbortSignal;
}

export interface Subscription extends AsyncIterable<DaemonEvent> {
  /** Events dropped because this subscriber fell behind. */
  readonly dropped: number;
  /** Takes what is queued right now without waiting (to flush before closing). */
  drain(): DaemonEvent[];
  close(): void;
}

class Subscriber implements Subscription {
  readonly #queue: DaemonEvent[] = [];
  readonly #limit: number;
  readonly #filter: ((event: DaemonEvent) => boolean) | undefined;
  readonly #onClose: (s: Subscriber) => void;
  #waiting: ((r: IteratorResult<DaemonEvent>) => void) | undefined;
  #closed = false;
  dropped = 0;

  constructor(options: SubscribeOptions, onClose: (s: Subscriber) => void) {
    this.#limit = Math.max(1, options.limit ?? 1000);
    this.#filter = options.filter;
    this.#onClose = onClose;
    options.signal?.addEventListener('abort', () => this.close(), { once: true });
    if (options.signal?.aborted) this.close();
  }

  push(event: DaemonEvent): void {
    if (this.#closed || (this.#filter && !this.#filter(event))) return;
    if (this.#waiting) {
      const resolve = this.#waiting;
      this.#waiting = undefined;
      resolve({ value: event, done: false });
      return;
    }
    // Drop the oldest: a reader that catches up cares more about the current state than stale history.
    if (this.#queue.length >= this.#limit) {
      this.#queue.shift();
      this.dropped++;
    }
    this.#queue.push(event);
  }

  drain(): DaemonEvent[] {
    return this.#queue.splice(0, this.#queue.length);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    this.#onClose(this);
    const resolve = this.#waiting;
    this.#waiting = undefined;
    resolve?.({ value: undefined, done: true });
  }

  /** Pending events, for tests and stats. */
  get queued(): number {
    return this.#queue.length;
  }

  [Symbol.asyncIterator](): AsyncIterator<DaemonEvent> {
    return {
      next: () => {
        const event = this.#queue.shift();
        if (event) return Promise.resolve({ value: event, done: false });
        if (this.#closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.#waiting = resolve;
        });
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

export class EventBus {
  readonly #subscribers = new Set<Subscriber>();
  #published = 0;
  #dropped = 0;

  publish(event: DaemonEvent): void {
    this.#published++;
    for (const s of this.#subscribers) {
      const before = s.dropped;
      s.push(event);
      this.#dropped += s.dropped - before;
    }
  }

  subscribe(options: SubscribeOptions = {}): Subscription {
    const s = new Subscriber(options, (gone) => this.#subscribers.delete(gone));
    if (!options.signal?.aborted) this.#subscribers.add(s);
    return s;
  }

  stats(): { subscribers: number; published: number; dropped: number } {
    return { subscribers: this.#subscribers.size, published: this.#published, dropped: this.#dropped };
  }
}
