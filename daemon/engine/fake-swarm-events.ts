// The fake swarm's engine event streams: task container and service events, pushed to each subscriber of that kind
// whose label query they match (service events carry no labels, as on the engine, so their query is ignored). As the
// engine does, it keeps the last events in memory and replays those at or after a subscription's `since`.

import { CmeshError } from '../api/errors.ts';
import type { LabelQuery, SwarmEvent, SwarmEventKind, SwarmTaskInfo } from '../api/swarm-engine.ts';
import { Subscription } from './fake-signal.ts';

/** Docker's in-memory event buffer (daemon/events eventsLimit): what a `since` can reach back to. */
const BUFFERED = 256;

export function matches(labels: Record<string, string>, query: LabelQuery): boolean {
  return Object.entries(query).every(([k, v]) => (v === true ? Object.hasOwn(labels, k) : labels[k] === v));
}

type Subscriber = { kind: SwarmEventKind; labels: LabelQuery; sub: Subscription<SwarmEvent> };

export class FakeSwarmEvents {
  readonly #subscribers = new Set<Subscriber>();
  readonly #buffer: SwarmEvent[] = [];
  readonly #onThisNode: (t: SwarmTaskInfo) => boolean;

  constructor(onThisNode: (t: SwarmTaskInfo) => boolean = () => true) {
    this.#onThisNode = onThisNode;
  }

  async *subscribe(options: { kind: SwarmEventKind; labels: LabelQuery; signal: AbortSignal; since?: number }): AsyncGenerator<SwarmEvent> {
    const entry = { kind: options.kind, labels: options.kind === 'task' ? options.labels : {}, sub: new Subscription<SwarmEvent>() };
    // Replay and subscription in one synchronous step: no event falls between them, none comes twice.
    const since = options.since;
    if (since !== undefined) for (const e of this.#buffer) if (e.time >= since && this.#wants(entry, e)) entry.sub.push(e);
    this.#subscribers.add(entry);
    try {
      yield* entry.sub.iterate(options.signal);
    } finally {
      this.#subscribers.delete(entry);
    }
  }

  /** Test control: every open stream fails as on a lost engine connection (the buffer stays, as in the engine). */
  drop(): void {
    for (const s of this.#subscribers) s.sub.fail(new CmeshError('CMESH_E_ENGINE_UNAVAILABLE', `lost the swarm ${s.kind} event stream`));
    this.#subscribers.clear();
  }

  /** A task container's event, with the labels the engine puts on it (the spec's, and Swarm's task name). */
  task(serviceName: string, t: SwarmTaskInfo, action: string, extra: Record<string, string> = {}): void {
    if (!this.#onThisNode(t)) return; // another node's engine streams it, not this one
    const name = `${serviceName}.${t.slot}.${t.id}`;
    const attributes = { ...t.labels, 'com.docker.swarm.service.name': serviceName, 'com.docker.swarm.task.name': name, name, ...extra };
    this.emit('task', action, t.containerId ?? t.id, attributes);
  }

  emit(kind: SwarmEventKind, action: string, id: string, attributes: Record<string, string>): void {
    const event: SwarmEvent = { kind, action, id, attributes, time: Date.now() };
    this.#buffer.push(event);
    if (this.#buffer.length > BUFFERED) this.#buffer.shift();
    for (const s of this.#subscribers) if (this.#wants(s, event)) s.sub.push(event);
  }

  #wants(s: Subscriber, e: SwarmEvent): boolean {
    return s.kind === e.kind && matches(e.attributes, s.labels);
  }
}
