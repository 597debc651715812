// Waits between looks at the engine that end early when the engine announces a change (habit 6: events wake, a slow
// poll is only the safety net). Used by `up --wait` readiness and depends_on gates.

/** Subscribes a listener to "something about this project changed"; returns the unsubscribe function. */
export type WakeSource = (listener: () => void) => () => void;

/**
 * One waiter's naps. A change that arrives while the caller is looking (between `look()` and `sleep()`) is not lost:
 * the next sleep returns at once. After a wake the nap still waits `settleMs` first, because Docker 20.10 announces
 * some changes (a `die`, a health status) a few ms before its container list shows them.
 */
export class Nap {
  readonly #unsubscribe: () => void;
  readonly #settleMs: number;
  #changed = false;
  #wakeUp: (() => void) | undefined;

  constructor(source: WakeSource | undefined, settleMs = 15) {
    this.#settleMs = settleMs;
    this.#unsubscribe = source?.(() => this.#onChange()) ?? (() => undefined);
  }

  #onChange(): void {
    this.#changed = true;
    this.#wakeUp?.();
  }

  /** Call just before looking: changes from now on wake the next sleep. */
  look(): void {
    this.#changed = false;
  }

  /** Resolves after `ms`, or `settleMs` after a change (at once if one came during the look); rejects on abort. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      let timer: NodeJS.Timeout;
      const finish = (): void => {
        clearTimeout(timer);
        this.#wakeUp = undefined;
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        clearTimeout(timer);
        this.#wakeUp = undefined;
        reject(signal?.reason);
      };
      const settle = (): void => {
        clearTimeout(timer);
        this.#wakeUp = undefined;
        timer = setTimeout(finish, Math.min(this.#settleMs, ms));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (this.#changed) {
        settle();
        return;
      }
      this.#wakeUp = settle;
      timer = setTimeout(finish, ms);
    });
  }

  /** Stops listening; call it when the wait ends (try/finally). */
  dispose(): void {
    this.#wakeUp = undefined;
    this.#unsubscribe();
  }
}
