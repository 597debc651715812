// Async plumbing for the fake engine: a wake-up signal and a subscriber queue that both honour AbortSignal.

/** Resolves waiters on the next `notify()`; `wait` also resolves (false) on abort, removing its listener. */
export class Notifier {
  #waiters = new Set<() => void>();

  notify(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w();
  }

  wait(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        this.#waiters.delete(wake);
        resolve(false);
      };
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      };
      this.#waiters.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  get waiting(): number {
    return this.#waiters.size;
  }
}

/** A per-subscriber queue: items pushed while nobody reads are kept; `fail` ends the iteration with an error. */
export class Subscription<T> {
  readonly #items: T[] = [];
  readonly #notifier = new Notifier();
  #error: unknown;
  #closed = false;

  push(item: T): void {
    if (this.#closed) return;
    this.#items.push(item);
    this.#notifier.notify();
  }

  fail(error: unknown): void {
    if (this.#closed) return;
    this.#error = error;
    this.#closed = true;
    this.#notifier.notify();
  }

  async *iterate(signal: AbortSignal): AsyncGenerator<T> {
    while (!signal.aborted) {
      const item = this.#items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.#closed) throw this.#error;
      await this.#notifier.wait(signal);
    }
  }
}
