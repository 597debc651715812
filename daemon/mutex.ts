// A FIFO async mutex: per-project operations (up, down, scale…) run one at a time so concurrent CLIs end consistent.

export class Mutex {
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;

  /** Runs `fn` after every earlier caller finished (whether it resolved or threw). */
  run<T>(fn: () => Promise<T>): Promise<T> {
    this.#pending++;
    const result = this.#tail.then(fn);
    // The chain must never reject, or one failed operation would poison every later one.
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result.finally(() => {
      this.#pending--;
    });
  }

  /** Operations queued or running. */
  get pending(): number {
    return this.#pending;
  }
}
