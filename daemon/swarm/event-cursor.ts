// Where a swarm event stream resumes after a reconnect. The engine replays its buffered events at or after a `since`
// (to the nanosecond; SwarmEvent.time is floored to the ms), so a resubscription from the last delivered event's time
// brings back what the drop missed plus that millisecond's events again: the cursor remembers which of those went out.

import type { SwarmEvent } from '../api/swarm-engine.ts';

const keyOf = (e: SwarmEvent): string => `${e.kind} ${e.action} ${e.id} ${JSON.stringify(e.attributes)}`;

export class EventCursor {
  readonly #now: () => number;
  #last: number | undefined;
  /** Events of the millisecond `#last` that were delivered: a replay from it repeats them. */
  #atLast = new Set<string>();
  #firstAt: number | undefined;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * The `since` of the next subscription: the first one asks from its own start (the engine may stream a moment after
   * the request; a deploy made meanwhile stays seen), a later one from the last delivered event, or from the first
   * subscription's start while none came. Our clock is the engine's on a local socket; with a remote engine's skew a
   * first replay may bring a few events of the moment before, never of an earlier daemon.
   */
  since(): number {
    this.#firstAt ??= this.#now();
    return this.#last ?? this.#firstAt;
  }

  /** True when `e` was not delivered before (and now counts as delivered); false for a replayed repeat. */
  admit(e: SwarmEvent): boolean {
    if (this.#last !== undefined && e.time < this.#last) return true; // only a clock step back does this: keep it
    const key = keyOf(e);
    if (e.time === this.#last) {
      if (this.#atLast.has(key)) return false;
      this.#atLast.add(key);
      return true;
    }
    this.#last = e.time;
    this.#atLast = new Set([key]);
    return true;
  }
}
