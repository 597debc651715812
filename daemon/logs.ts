// Multiplexed logs across the replicas of selected services. Follow mode attaches to replicas that appear later
// (seen through container events), and one AbortSignal ends every engine log stream when the client goes away.

import type { LogFrame } from './api/control.ts';
import type { ContainerEngine, ContainerInfo, EngineEvent } from './api/engine.ts';
import { Labels, projectLabels, replicaOf } from './api/labels.ts';

export interface StreamLogsOptions {
  engine: ContainerEngine;
  project: string;
  /** Empty = every service. */
  services: string[];
  follow: boolean;
  tail?: number;
  /** Aborted when the client disconnects; every per-container stream listens to it. */
  signal: AbortSignal;
  /** Subscribes to engine events (ProjectManager.onEngineEvent); returns the unsubscribe function. */
  onEngineEvent: (listener: (event: EngineEvent) => void) => () => void;
  /** May return a promise to push back (the client reads slowly): the engine stream then waits too. */
  write: (frame: LogFrame) => void | Promise<void>;
  /**
   * Another target's replicas (swarm tasks), listed by this instead of the project's labelled containers. Their
   * starts carry none of the labels the engine event stream is filtered on, so follow mode re-lists every relistMs.
   */
  replicas?: { list: (all: boolean) => Promise<Pick<ContainerInfo, 'id' | 'labels' | 'name'>[]>; relistMs: number };
}

/** Follow mode for replicas without engine events: attach what runs now, every relistMs, until the client leaves. */
async function relist(replicas: NonNullable<StreamLogsOptions['replicas']>, found: (c: Pick<ContainerInfo, 'id' | 'labels' | 'name'>) => void, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    await new Promise((r) => setTimeout(r, replicas.relistMs));
    if (signal.aborted) return;
    for (const c of await replicas.list(false).catch(() => [])) found(c);
  }
}

/** Resolves when every stream ended (no follow), or when the signal aborts (follow). */
export async function streamLogs(o: StreamLogsOptions): Promise<void> {
  // A one-off's output belonged to the `cmesh run` that attached to it, as in Compose.
  const wanted = (labels: Record<string, string>): boolean =>
    labels[Labels.project] === o.project &&
    labels[Labels.oneoff] !== 'true' &&
    (o.services.length === 0 || o.services.includes(labels[Labels.service] ?? ''));
  const active = new Map<string, Promise<void>>();
  // Last line time per container, so a replica restarted in place resumes where it stopped instead of repeating.
  const lastTime = new Map<string, number>();

  const attach = (c: Pick<ContainerInfo, 'id' | 'labels'>, tail: number | undefined): void => {
    if (active.has(c.id) || o.signal.aborted) return;
    const service = c.labels[Labels.service] ?? '';
    const replica = replicaOf(c.labels) ?? 0;
    const since = lastTime.get(c.id);
    const run = (async () => {
      try {
        const lines = o.engine.containerLogs(c.id, {
          follow: o.follow,
          signal: o.signal,
          ...(tail === undefined ? {} : { tail }),
          ...(since === undefined ? {} : { since: since + 1 }),
        });
        for await (const line of lines) {
          lastTime.set(c.id, line.time);
          await o.write({ service, replica, container: c.id, stream: line.stream, time: line.time, text: line.text });
        }
      } catch {
        // A container removed mid-stream ends its stream; the others carry on.
      } finally {
        active.delete(c.id);
      }
    })();
    active.set(c.id, run);
  };

  // Subscribe before listing so a replica started between the two is not missed (attach() dedupes by id).
  const unsubscribe = o.follow
    ? o.onEngineEvent((event) => {
        if (event.type !== 'container' || !wanted(event.labels)) return;
        if (event.action === 'start' || event.action === 'restart') attach({ id: event.id, labels: event.labels }, undefined);
      })
    : () => undefined;
  try {
    const containers = o.replicas ? await o.replicas.list(true) : await o.engine.listContainers({ labels: projectLabels(o.project), all: true });
    const chosen = containers
      .filter((c) => wanted(c.labels))
      .sort((a, b) => a.name.localeCompare(b.name));
    for (const c of chosen) attach(c, o.tail);
    if (o.follow && o.replicas) {
      void relist(o.replicas, (c) => {
        if (wanted(c.labels)) attach(c, undefined);
      }, o.signal);
    }
    if (o.follow) {
      await new Promise<void>((resolve) => {
        if (o.signal.aborted) resolve();
        else o.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    // Abort or not, wait for every stream to finish so no engine connection outlives the request.
    while (active.size > 0) await Promise.all([...active.values()]);
  } finally {
    unsubscribe();
  }
}
