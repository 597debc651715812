// A port that could not be bound is tried again soon, not only at the gateway's 2 s refresh. On the shared gateway an
// address one project just left can come straight back to another project's network (the engine reuses addresses),
// while the first project's listener there closes a moment later; callers of the new project would be refused until
// the refresh. First retry after 50 ms, doubling; past the refresh's period the refresh alone carries on.

export interface BindRetryOptions {
  /** Runs a sync of the listeners (the gateway's kick). */
  retry: () => void;
  /** The gateway's refresh period: no retry is scheduled further out than this. */
  refreshMs: number;
}

const FIRST_RETRY_MS = 50;

export class BindRetry {
  readonly #o: BindRetryOptions;
  #delayMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: BindRetryOptions) {
    this.#o = options;
  }

  /** After each sync of the listeners: `allBound` resets the backoff, otherwise a retry is scheduled (one at a time). */
  settled(allBound: boolean): void {
    if (allBound) {
      this.#delayMs = 0;
      this.#clear();
      return;
    }
    if (this.#timer || this.#stopped) return;
    // Held at the refresh period once there: each refresh's failed sync leaves the next try to the refresh.
    this.#delayMs = this.#delayMs === 0 ? FIRST_RETRY_MS : Math.min(this.#delayMs * 2, this.#o.refreshMs);
    if (this.#delayMs >= this.#o.refreshMs) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#o.retry();
    }, this.#delayMs).unref();
  }

  stop(): void {
    this.#stopped = true;
    this.#clear();
  }

  #clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
