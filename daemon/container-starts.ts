// Since when each container's current run has been running, as far as this daemon saw it start: the engine's
// container list does not say (only inspect does, one call per container), and `up --wait` needs it to tell a
// replica without a healthcheck that has run for minutes from one that started a moment ago (daemon/reconcile/ready.ts).

import type { EngineEvent } from './api/engine.ts';

/** Actions after which a container's run is over (or it is gone): its start is no longer known. */
const RUN_ENDED = new Set(['die', 'kill', 'oom', 'stop', 'destroy']);

export class ContainerStarts {
  readonly #since = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * Every engine event the daemon receives. A start is dated when it is received, not by the engine's timestamp: the
   * event comes after the start, so the run is at least that old, whatever the engine's clock says.
   */
  see(event: EngineEvent): void {
    if (event.type !== 'container') return;
    if (event.action === 'start') this.#since.set(event.id, this.#now());
    else if (RUN_ENDED.has(event.action)) this.#since.delete(event.id);
  }

  /** The event stream dropped: a restart may have gone unseen, so no start known so far can be trusted. */
  forgetAll(): void {
    this.#since.clear();
  }

  /** When the container's current run was seen to start (epoch ms); undefined when this daemon did not see it. */
  runningSince(id: string): number | undefined {
    return this.#since.get(id);
  }
}
