// Which deferred restarts are news: one `restart-scheduled` event per scheduled restart, however many passes see it
// still pending while its backoff runs.

import type { DeferredRestart, Plan } from './plan-types.ts';
import { replicaKey } from './supervisor.ts';

/** What identifies one scheduled restart of a replica: a new crash or a new attempt is a new one. */
interface ScheduledRestart {
  container: string;
  attempt: number;
  notBefore: number;
}

export class RestartAnnouncements {
  /**
   * By replica key. Kept until due rather than only while the latest plan lists them: a pass that momentarily does not
   * (a health flap) must not make the next one announce the same restart again.
   */
  readonly #announced = new Map<string, ScheduledRestart>();

  /** The plan's deferred restarts not announced yet; they count as announced from now on. */
  fresh(p: Pick<Plan, 'now' | 'deferred'>): DeferredRestart[] {
    // A deferral is always due after its plan's `now`, so one due by then can never be listed (and repeated) again.
    for (const [key, a] of this.#announced) if (a.notBefore <= p.now) this.#announced.delete(key);
    const out: DeferredRestart[] = [];
    for (const d of p.deferred) {
      const key = replicaKey(d.target.service, d.target.replica);
      const prev = this.#announced.get(key);
      if (prev && prev.container === d.target.id && prev.attempt === d.attempt && prev.notBefore === d.notBefore) continue;
      this.#announced.set(key, { container: d.target.id, attempt: d.attempt, notBefore: d.notBefore });
      out.push(d);
    }
    return out;
  }

  /** After `down`: the project's replicas are gone, and so is what was announced about them. */
  clear(): void {
    this.#announced.clear();
  }
}
