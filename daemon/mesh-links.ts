// What the daemon's mesh remembers between observations about replicas the engine told it of by event: which network
// each is reached on at its own address (to judge a network disconnect), and which it said paused (to read a stale list).

import type { ContainerInfo, ContainerState } from './api/engine.ts';
import { Labels } from './api/labels.ts';

/**
 * How long after the engine's `pause` a list saying "running" is taken for stale. Docker 20.10 lists the container
 * as running for tens of ms after the event (the loop's settle wakes come 150 and 600 ms after it); 5 s is well past.
 */
export const PAUSE_LIST_LAG_MS = 5_000;

export class ReplicaLinks {
  /** Per project, as last observed: container id → the network it is reached on at its own address ('' published). */
  readonly #reachedOn = new Map<string, Map<string, string>>();
  /** Containers the engine said paused, with when. */
  readonly #pausedAt = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A full observation of the project: its containers, with their reach networks (labels; published ones have none). */
  observed(project: string, containers: ContainerInfo[]): void {
    const before = this.#reachedOn.get(project);
    const now = new Map(containers.map((c) => [c.id, c.labels[Labels.reachNetwork] ?? '']));
    this.#reachedOn.set(project, now);
    // A container removed while paused is never listed again: its pause mark goes with it, not at a list of it.
    for (const id of before?.keys() ?? []) if (!now.has(id)) this.#pausedAt.delete(id);
  }

  forget(project: string): void {
    for (const id of this.#reachedOn.get(project)?.keys() ?? []) this.#pausedAt.delete(id);
    this.#reachedOn.delete(project);
  }

  /** The project of an observed container, and whether it is reached at its own address on `network`. */
  find(container: string, network: string): { project: string; reachedOn: boolean } | undefined {
    for (const [project, reachedOn] of this.#reachedOn) {
      const reach = reachedOn.get(container);
      if (reach !== undefined) return { project, reachedOn: reach === network };
    }
    return undefined;
  }

  paused(container: string, paused: boolean): void {
    if (paused) this.#pausedAt.set(container, this.#now());
    else this.#pausedAt.delete(container);
  }

  /** A listed state, unless the engine said this container paused since and no unpause came (for PAUSE_LIST_LAG_MS). */
  stateOf(c: ContainerInfo): ContainerState {
    const at = this.#pausedAt.get(c.id);
    if (at === undefined) return c.state;
    if (c.state === 'running' && this.#now() - at < PAUSE_LIST_LAG_MS) return 'paused';
    // The list caught up (paused, or anything else), or the bound passed: the list is the truth again.
    this.#pausedAt.delete(c.id);
    return c.state;
  }
}
