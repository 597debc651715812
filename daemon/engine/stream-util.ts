// Small helpers for the adapter's long-lived streams: abort linking, engine time formats, event parsing.

import type { EngineEvent, ExecOptions } from '../api/engine.ts';

export interface LinkedAbort {
  signal: AbortSignal;
  /** Removes the listener from the parent signal; call in `finally` so nothing is left behind. */
  dispose(): void;
}

/** A child signal that aborts with the parent; disposing it detaches from the parent (no listener leak per call). */
export function linkAbort(parent?: AbortSignal): LinkedAbort {
  const controller = new AbortController();
  if (!parent) return { signal: controller.signal, dispose: () => {} };
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, dispose: () => {} };
  }
  const onAbort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, dispose: () => parent.removeEventListener('abort', onAbort) };
}

/** Engine `since`/`until` take "seconds.nanoseconds"; the nanosecond part is read literally, so pad it to 9 digits. */
export function engineTimestamp(ms: number): string {
  const whole = Math.floor(ms);
  const sec = Math.floor(whole / 1000);
  const nanos = (whole - sec * 1000) * 1_000_000;
  return `${sec}.${String(nanos).padStart(9, '0')}`;
}

/**
 * Event actions that never change what observe() would see. Docker healthchecks alone emit three exec_* events per
 * interval per container; letting them through would wake the reconcile loop for nothing.
 */
const QUIET_ACTIONS = /^(exec_create|exec_start|exec_detach|exec_die|attach|detach|resize|top|archive-path|extract-to-dir|copy|export)\b/;

/** Attributes the engine adds next to labels in Actor.Attributes. */
const ENGINE_ATTRIBUTES = new Set([
  'name',
  'image',
  'exitCode',
  'signal',
  'container',
  'type',
  'driver',
  'destination',
  'propagation',
  'read/write',
  'execID',
]);

const EVENT_TYPES = new Set(['container', 'network', 'volume', 'image']);

export function toEngineEvent(obj: Record<string, unknown>): EngineEvent | undefined {
  const type = obj.Type;
  const action = obj.Action ?? obj.status;
  if (typeof type !== 'string' || !EVENT_TYPES.has(type) || typeof action !== 'string') return undefined;
  if (QUIET_ACTIONS.test(action)) return undefined;
  const actor = (obj.Actor ?? {}) as { ID?: unknown; Attributes?: unknown };
  const id = typeof actor.ID === 'string' ? actor.ID : typeof obj.id === 'string' ? obj.id : '';
  const attributes: Record<string, string> = {};
  const labels: Record<string, string> = {};
  if (actor.Attributes && typeof actor.Attributes === 'object') {
    for (const [k, v] of Object.entries(actor.Attributes as Record<string, unknown>)) {
      if (typeof v !== 'string') continue;
      attributes[k] = v;
      if (!ENGINE_ATTRIBUTES.has(k)) labels[k] = v;
    }
  }
  const time =
    typeof obj.timeNano === 'number'
      ? Math.floor(obj.timeNano / 1_000_000)
      : typeof obj.time === 'number'
        ? obj.time * 1000
        : Date.now();
  return { type: type as EngineEvent['type'], action, id, labels, attributes, time };
}

/**
 * A container joining or leaving a network (`connect`/`disconnect`, the container's id in attributes.container, the
 * network's name in attributes.name). The engine sends these for every container, cmesh's or not: it has no labels on
 * network events to filter by.
 */
export function isLinkEvent(e: EngineEvent): boolean {
  return e.type === 'network' && (e.action === 'connect' || e.action === 'disconnect') && !!e.attributes?.container && !!e.attributes?.name;
}

/** Resolves 'gave-up' at the timeout or abort, whichever comes first; never when neither is set. */
export function waitLimit(options: ExecOptions): { promise: Promise<'gave-up'>; dispose: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const promise = new Promise<'gave-up'>((resolve) => {
    if (options.timeoutMs !== undefined) timer = setTimeout(() => resolve('gave-up'), options.timeoutMs);
    if (options.signal) {
      if (options.signal.aborted) resolve('gave-up');
      onAbort = () => resolve('gave-up');
      options.signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  const dispose = (): void => {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
  };
  return { promise, dispose };
}
