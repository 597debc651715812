// The daemon's subscription to the swarm's engine events: task containers on this node (by the swarm target's label)
// and service updates, kept alive with the same reconnect backoff as the container engine's stream (replaying what a
// drop missed, see event-cursor.ts), turned into DaemonEvents (swarm-events.ts) for the projects this daemon runs on
// the swarm.

import type { DaemonEvent } from '../api/events.ts';
import { Labels } from '../api/labels.ts';
import type { SwarmEngine, SwarmEvent, SwarmEventKind } from '../api/swarm-engine.ts';
import { watchEngine } from '../engine-watch.ts';
import { EventCursor } from './event-cursor.ts';
import { isRolloutEvent, serviceDaemonEvent, taskDaemonEvent } from './swarm-events.ts';
import { TARGET_LABEL } from './translate.ts';

type Owner = { project: string; service: string } | undefined;

export interface SwarmEventFeedOptions {
  swarm: SwarmEngine;
  emit(event: DaemonEvent): void;
  /** True for the projects whose events this daemon announces (those it runs on the swarm). */
  wants(project: string): boolean;
  reconnect?: { initialMs: number; maxMs: number };
}

export class SwarmEventFeed {
  readonly #o: SwarmEventFeedOptions;
  #abort: AbortController | undefined;
  /** Service ID → its cmesh project and service, resolved once per service (a promise, so events keep their order). */
  readonly #owners = new Map<string, Promise<Owner>>();

  constructor(options: SwarmEventFeedOptions) {
    this.#o = options;
  }

  /** Subscribes (once) to both streams until close(). */
  start(): void {
    if (this.#abort) return;
    const ac = new AbortController();
    this.#abort = ac;
    for (const kind of ['task', 'service'] as const) void this.#watch(kind, ac.signal);
  }

  close(): void {
    this.#abort?.abort();
    this.#abort = undefined;
  }

  #watch(kind: SwarmEventKind, signal: AbortSignal): Promise<void> {
    const swarm = this.#o.swarm;
    // Each (re)subscription asks from the last event delivered: the engine replays what a drop missed, the cursor
    // skips what was already announced.
    const cursor = new EventCursor();
    return watchEngine<SwarmEvent>({
      engine: { events: (o) => swarm.events({ kind, labels: { [TARGET_LABEL]: 'swarm' }, signal: o.signal, since: cursor.since() }) },
      signal,
      ...(this.#o.reconnect ?? {}),
      onEvent: (e) => {
        if (cursor.admit(e)) void this.#handle(e);
      },
      onReconnect: () => undefined,
      // The container engine's own stream reports a lost engine; a second error line per drop would be noise.
      onError: () => undefined,
    });
  }

  async #handle(e: SwarmEvent): Promise<void> {
    const event = e.kind === 'task' ? taskDaemonEvent(e) : isRolloutEvent(e) ? serviceDaemonEvent(e, await this.#owner(e.id)) : undefined;
    if (event && this.#o.wants(event.project)) this.#o.emit(event);
  }

  #owner(serviceId: string): Promise<Owner> {
    let owner = this.#owners.get(serviceId);
    if (!owner) {
      owner = this.#o.swarm.inspectService(serviceId).then(
        (s) => {
          const project = s?.spec.Labels[Labels.project];
          const service = s?.spec.Labels[Labels.service];
          return project && service && s?.spec.Labels[TARGET_LABEL] === 'swarm' ? { project, service } : undefined;
        },
        () => undefined,
      );
      this.#owners.set(serviceId, owner);
      // A failed or foreign lookup is not cached for good: the next update asks again.
      void owner.then((o) => o ?? this.#owners.delete(serviceId));
    }
    return owner;
  }
}
