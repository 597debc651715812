// When a project's passes run: coalesced wakes, callers waiting for a fresh pass, one engine-mutating sequence at a
// time, the resync timer and the backoff after a failed pass. What a pass does is the reconciler's business (loop.ts).

import { CmeshError, isCmeshError } from '../api/errors.ts';
import { backoffDelay, PASS_BACKOFF } from './backoff.ts';

export interface PassSchedulerOptions<R> {
  signal: AbortSignal;
  /** Periodic full pass that catches whatever engine events missed. */
  resyncMs: number;
  now: () => number;
  /** One pass; `wakeAt` asks for the next one no later than then. */
  pass: () => Promise<R>;
  wakeAt: (result: R) => number | undefined;
  /** A failed pass (never called once the signal aborted); the scheduler retries it with backoff. */
  onFailed: (error: CmeshError) => void;
  /** The error callers get once the loop was stopped. */
  aborted: () => CmeshError;
}

interface Waiter<R> {
  /** Resolve with the first pass whose number is greater: it started after the call. */
  after: number;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export class PassScheduler<R> {
  readonly #o: PassSchedulerOptions<R>;
  #started = 0;
  #draining: Promise<void> | undefined;
  #again = false;
  #waiters: Waiter<R>[] = [];
  /** Serializes passes and other exclusive work (down): never two engine-mutating sequences for one project at once. */
  #lock: Promise<unknown> = Promise.resolve();
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: PassSchedulerOptions<R>) {
    this.#o = options;
    options.signal.addEventListener('abort', () => this.#shutdown(), { once: true });
    this.#schedule(options.resyncMs);
  }

  /** Coalescing: any number of wakes during a pass cause exactly one more pass. */
  wake(): void {
    if (this.#o.signal.aborted) return;
    if (this.#draining) {
      this.#again = true;
      return;
    }
    this.#draining = this.#drain();
  }

  /** Runs (or joins) a pass and resolves after one that started after this call, so fresh desired state is applied. */
  passNow(): Promise<R> {
    if (this.#o.signal.aborted) return Promise.reject(this.#o.aborted());
    return new Promise((resolve, reject) => {
      this.#waiters.push({ after: this.#started, resolve, reject });
      this.wake();
    });
  }

  /** Runs `fn` when no pass (or other exclusive work) runs, and holds passes back until it ends. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  /** Never rejects: a failed pass is reported, retried with backoff, and the loop lives on (habit 8). */
  async #drain(): Promise<void> {
    try {
      do {
        this.#again = false;
        const seq = ++this.#started;
        let outcome: { ok: true; result: R } | { ok: false; error: unknown };
        try {
          outcome = { ok: true, result: await this.exclusive(this.#o.pass) };
          this.#failures = 0;
          const wakeAt = this.#o.wakeAt(outcome.result);
          this.#schedule(Math.min(this.#o.resyncMs, wakeAt === undefined ? Infinity : wakeAt - this.#o.now()));
        } catch (error) {
          outcome = { ok: false, error: this.#o.signal.aborted ? this.#o.aborted() : asError(error) };
          if (!this.#o.signal.aborted) this.#failed(outcome.error as CmeshError);
        }
        const ready = this.#waiters.filter((w) => w.after < seq);
        this.#waiters = this.#waiters.filter((w) => w.after >= seq);
        for (const w of ready) {
          if (outcome.ok) w.resolve(outcome.result);
          else w.reject(outcome.error);
        }
      } while (this.#again && !this.#o.signal.aborted);
    } finally {
      this.#draining = undefined;
    }
  }

  #failed(error: CmeshError): void {
    this.#failures++;
    this.#o.onFailed(error);
    this.#schedule(Math.min(this.#o.resyncMs, backoffDelay(this.#failures - 1, PASS_BACKOFF)));
  }

  #schedule(delayMs: number): void {
    if (this.#o.signal.aborted) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.wake(), Math.max(0, delayMs));
    // The daemon's server keeps the process alive; a reconcile timer alone must not.
    this.#timer.unref();
  }

  #shutdown(): void {
    clearTimeout(this.#timer);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(this.#o.aborted());
  }
}

function asError(error: unknown): CmeshError {
  if (isCmeshError(error)) return error;
  return new CmeshError('CMESH_E_BUG', `reconcile pass crashed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
