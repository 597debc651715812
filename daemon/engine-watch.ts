// Keeps one engine event subscription alive for the daemon: reconnects with a doubling, capped backoff and reports
// every (re)connect so callers wake their loops (events may have been missed while the stream was down).

import type { EngineEvent } from './api/engine.ts';
import { CmeshError } from './api/errors.ts';

/**
 * The engine announces `die` before its container list shows the exit (Docker 20.10 lists it as running for a few
 * more ms), so a pass woken by the event alone can miss it until the next resync. These actions get follow-up wakes.
 */
// pause/unpause lag the same way, and the mesh takes a paused replica out of rotation (and back) from the observation.
export const SETTLING_ACTIONS: ReadonlySet<string> = new Set(['die', 'kill', 'oom', 'stop', 'pause', 'unpause']);
export const SETTLE_WAKES_MS: readonly number[] = [150, 600];

export interface WatchEngineOptions<E = EngineEvent> {
  /** The container engine, or another engine event source (the swarm's task and service streams). */
  engine: { events(options: { signal: AbortSignal }): AsyncIterable<E> };
  signal: AbortSignal;
  onEvent: (event: E) => void;
  /** After a drop, once the backoff elapsed and just before re-subscribing. */
  onReconnect: () => void;
  onError: (error: CmeshError) => void;
  initialMs?: number;
  maxMs?: number;
}

export async function watchEngine<E = EngineEvent>(o: WatchEngineOptions<E>): Promise<void> {
  const initialMs = o.initialMs ?? 1000;
  const maxMs = o.maxMs ?? 30_000;
  let delay = initialMs;
  while (!o.signal.aborted) {
    const connectedAt = Date.now();
    try {
      for await (const event of o.engine.events({ signal: o.signal })) o.onEvent(event);
    } catch (err) {
      if (o.signal.aborted) break;
      o.onError(err instanceof CmeshError ? err : new CmeshError('CMESH_E_ENGINE', String((err as Error)?.message ?? err)));
    }
    if (o.signal.aborted) break;
    // A connection that lived a while was healthy: start the backoff over instead of punishing an old outage.
    if (Date.now() - connectedAt > maxMs) delay = initialMs;
    await sleep(delay, o.signal);
    delay = Math.min(delay * 2, maxMs);
    if (!o.signal.aborted) o.onReconnect();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
