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

/** Recent events kept for `cmesh events --since` (log lines excluded: they have their own stream). */
export const HISTORY_LIMIT = 2000;

export class EventBus {
  readonly #subscribers = new Set<Subscriber>();
  readonly #taps = new Set<(event: DaemonEvent) => void>();
  readonly #history: DaemonEvent[] = [];
  readonly #historyLimit: number;
  #published = 0;
  #dropped = 0;

  constructor(options: { historyLimit?: number } = {}) {
    this.#historyLimit = Math.max(0, options.historyLimit ?? HISTORY_LIMIT);
  }

  publish(event: DaemonEvent): void {
    this.#published++;
    if (event.type !== 'log' && this.#historyLimit > 0) {
      // A ring in effect: one shift per publish once full, and the array never outgrows the limit.
      if (this.#history.length >= this.#historyLimit) this.#history.shift();
      this.#history.push(event);
    }
    for (const tap of this.#taps) tap(event);
    for (const s of this.#subscribers) {
      const before = s.dropped;
      s.push(event);
      this.#dropped += s.dropped - before;
    }
  }

  /** Kept events at or after `since` (epoch ms), oldest first. Call it in the same tick as subscribe() for no gap. */
  recent(since: number, filter?: (event: DaemonEvent) => boolean): DaemonEvent[] {
    return this.#history.filter((e) => e.time >= since && (filter === undefined || filter(e)));
  }

  /**
   * In-process synchronous observer (metrics): no queue, so nothing to drop and nothing to fall behind; it must be
   * cheap and must not throw. Not counted in stats(), which are about streaming clients.
   */
  tap(fn: (event: DaemonEvent) => void, signal: AbortSignal): void {
    if (signal.aborted) return;
    this.#taps.add(fn);
    signal.addEventListener('abort', () => this.#taps.delete(fn), { once: true });
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
