// The fake swarm's engine event streams: task container and service events, pushed to each subscriber of that kind
// whose label query they match (service events carry no labels, as on the engine, so their query is ignored).

import type { LabelQuery, SwarmEvent, SwarmEventKind, SwarmTaskInfo } from '../api/swarm-engine.ts';
import { Subscription } from './fake-signal.ts';

export function matches(labels: Record<string, string>, query: LabelQuery): boolean {
  return Object.entries(query).every(([k, v]) => (v === true ? Object.hasOwn(labels, k) : labels[k] === v));
}

export class FakeSwarmEvents {
  readonly #subscribers = new Set<{ kind: SwarmEventKind; labels: LabelQuery; sub: Subscription<SwarmEvent> }>();

  async *subscribe(options: { kind: SwarmEventKind; labels: LabelQuery; signal: AbortSignal }): AsyncGenerator<SwarmEvent> {
    const entry = { kind: options.kind, labels: options.kind === 'task' ? options.labels : {}, sub: new Subscription<SwarmEvent>() };
    this.#subscribers.add(entry);
    try {
      yield* entry.sub.iterate(options.signal);
    } finally {
      this.#subscribers.delete(entry);
    }
  }

  /** A task container's event, with the labels the engine puts on it (the spec's, and Swarm's task name). */
  task(serviceName: string, t: SwarmTaskInfo, action: string, extra: Record<string, string> = {}): void {
    const name = `${serviceName}.${t.slot}.${t.id}`;
    const attributes = { ...t.labels, 'com.docker.swarm.service.name': serviceName, 'com.docker.swarm.task.name': name, name, ...extra };
    this.emit('task', action, t.containerId ?? t.id, attributes);
  }

  emit(kind: SwarmEventKind, action: string, id: string, attributes: Record<string, string>): void {
    for (const s of this.#subscribers) if (s.kind === kind && matches(attributes, s.labels)) s.sub.push({ kind, action, id, attributes, time: Date.now() });
  }
}
