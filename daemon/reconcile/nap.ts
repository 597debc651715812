// Waits between looks at the engine that end early when the engine announces a change (habit 6: events wake, a slow
// poll is only the safety net). Used by `up --wait` readiness and depends_on gates.

/**
 * Subscribes a listener to "something about this project changed"; returns the unsubscribe function. `fresh` says the
 * change is already in what the next look returns (cmesh's own state, such as a start probe's pass), so the waiter
 * looks at once instead of letting the engine settle first.
 */
export type WakeSource = (listener: (fresh?: boolean) => void) => () => void;

/**
 * One waiter's naps. A change that arrives while the caller is looking (between `look()` and `sleep()`) is not lost:
 * the next sleep returns at once. After a wake the nap still waits `settleMs` first, because Docker 20.10 announces
 * some changes (a `die`, a health status) a few ms before its container list shows them.
 */
export class Nap {
  readonly #unsubscribe: () => void;
  readonly #settleMs: number;
  #changed = false;
  /** The change since the last look needs no settling (see WakeSource). */
  #fresh = false;
  #wakeUp: ((fresh: boolean) => void) | undefined;

  constructor(source: WakeSource | undefined, settleMs = 15) {
    this.#settleMs = settleMs;
    this.#unsubscribe = source?.((fresh) => this.#onChange(fresh === true)) ?? (() => undefined);
  }

  #onChange(fresh: boolean): void {
    this.#changed = true;
    if (fresh) this.#fresh = true;
    this.#wakeUp?.(fresh);
  }

  /** Call just before looking: changes from now on wake the next sleep. */
  look(): void {
    this.#changed = false;
    this.#fresh = false;
  }

  /** Resolves after `ms`, or `settleMs` after an engine change, or at once after a fresh one; rejects on abort. */
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
      const settle = (fresh: boolean): void => {
        clearTimeout(timer);
        if (fresh) {
          finish();
          return;
        }
        this.#wakeUp = undefined;
        timer = setTimeout(finish, Math.min(this.#settleMs, ms));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (this.#changed) {
        settle(this.#fresh);
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
