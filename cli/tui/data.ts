// The dashboard's data flow: a throttled store over the reducer, the daemon's event stream, ≤ 1 Hz snapshots, the
// selected service's logs, and actions sent through the control API. Every loop reconnects with backoff and stops
// on the signal.

import type { DaemonInfo, KillReplicaResult, LogFrame, OperationFrame, ReplicaStatus, ServiceTableRow } from '../../daemon/api/control.ts';
import { isCmeshError } from '../../daemon/api/errors.ts';
import type { DaemonEvent } from '../../daemon/api/events.ts';
import type { ProjectSpec } from '../../daemon/api/project.ts';
import type { Effect } from './keys.ts';
import { type Action, type DashState, reduce, selectedRow } from './state.ts';

/** What the dashboard needs of cli/daemon-client.ts's DaemonClient (a fake fits in tests). */
export interface DashClient {
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
  stream<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): AsyncGenerator<T>;
  operation(path: string, body: unknown, onFrame: (frame: OperationFrame) => void, signal?: AbortSignal): Promise<unknown>;
}

/** Reduces every action at once, but tells subscribers (React) at most once per frameMs: ≤ 10 fps at 100 ms. */
export class DashStore {
  #state: DashState;
  #published: DashState;
  #listeners = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;
  #last = 0;

  constructor(
    initial: DashState,
    readonly frameMs = 100,
  ) {
    this.#state = initial;
    this.#published = initial;
  }

  /** The latest reduced state (not necessarily rendered yet). */
  get state(): DashState {
    return this.#state;
  }

  getSnapshot = (): DashState => this.#published;

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  dispatch = (...actions: Action[]): void => {
    for (const a of actions) this.#state = reduce(this.#state, a);
    if (this.#timer || this.#state === this.#published) return;
    this.#timer = setTimeout(() => this.#publish(), Math.max(0, this.frameMs - (Date.now() - this.#last)));
  };

  #publish(): void {
    this.#timer = undefined;
    this.#last = Date.now();
    this.#published = this.#state;
    for (const l of this.#listeners) l();
  }

  close(): void {
    clearTimeout(this.#timer);
  }
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export interface DataFlowOptions {
  client: DashClient;
  project: string;
  store: DashStore;
  signal: AbortSignal;
  pollMs?: number;
  backoff?: { minMs: number; maxMs: number };
}

/** Starts the three loops; they end when `signal` aborts. */
export function startDataFlow(o: DataFlowOptions): Promise<void> {
  const backoff = o.backoff ?? { minMs: 250, maxMs: 4000 };
  const p = encodeURIComponent(o.project);
  const dispatch = o.store.dispatch;
  const lost = (err: unknown): void => dispatch({ type: 'connection', state: 'reconnecting', error: messageOf(err) });

  async function poll(): Promise<void> {
    let delay = backoff.minMs;
    let n = 0;
    while (!o.signal.aborted) {
      try {
        const [services, ps] = await Promise.all([
          o.client.request<ServiceTableRow[]>('GET', `/v1/services?project=${p}`),
          o.client.request<ReplicaStatus[]>('GET', `/v1/projects/${p}/ps`),
        ]);
        dispatch({ type: 'snapshot', time: Date.now(), services, ps });
        if (n++ % 10 === 0 || o.store.state.info === undefined) dispatch({ type: 'info', info: await o.client.request<DaemonInfo>('GET', '/v1/info') });
        delay = backoff.minMs;
        await sleep(o.pollMs ?? 1000, o.signal);
      } catch (err) {
        if (o.signal.aborted) return;
        if (isCmeshError(err) && err.code === 'CMESH_E_PROJECT_NOT_FOUND') {
          dispatch({ type: 'fatal', message: err.message, hint: `start it first with \`cmesh up -d\` in its directory, or pick another with \`cmesh -p <name> dash\` (\`cmesh ls\` lists them)` });
          return;
        }
        lost(err);
        n = 0;
        await sleep(delay, o.signal);
        delay = Math.min(backoff.maxMs, delay * 2);
      }
    }
  }

  async function events(): Promise<void> {
    let delay = backoff.minMs;
    let since: number | undefined;
    while (!o.signal.aborted) {
      try {
        const q = since === undefined ? '' : `&since=${since + 1}`;
        for await (const event of o.client.stream<DaemonEvent>('GET', `/v1/events?project=${p}${q}`, undefined, o.signal)) {
          since = event.time;
          delay = backoff.minMs;
          dispatch({ type: 'event', event });
        }
        if (o.signal.aborted) return;
        lost(new Error('the event stream ended'));
      } catch (err) {
        if (o.signal.aborted) return;
        lost(err);
      }
      await sleep(delay, o.signal);
      delay = Math.min(backoff.maxMs, delay * 2);
    }
  }

  /** Follows the selected service's logs; a new selection restarts the stream. */
  async function logs(): Promise<void> {
    let following: string | undefined;
    let current: AbortController | undefined;
    let wake: (() => void) | undefined;
    const unsubscribe = o.store.subscribe(() => {
      if (selectedRow(o.store.state)?.service !== following) wake?.();
    });
    try {
      while (!o.signal.aborted) {
        following = selectedRow(o.store.state)?.service;
        if (following === undefined) {
          await new Promise<void>((r) => {
            wake = r;
            o.signal.addEventListener('abort', () => r(), { once: true });
          });
          continue;
        }
        current = new AbortController();
        const ac = current;
        wake = () => ac.abort();
        const stop = (): void => ac.abort();
        o.signal.addEventListener('abort', stop, { once: true });
        dispatch({ type: 'logs-reset' });
        try {
          const path = `/v1/projects/${p}/logs?follow=1&tail=20&service=${encodeURIComponent(following)}`;
          for await (const frame of o.client.stream<LogFrame>('GET', path, undefined, ac.signal)) dispatch({ type: 'log', frame });
        } catch {
          // The poll loop reports the connection; logs just retry.
        } finally {
          o.signal.removeEventListener('abort', stop);
        }
        if (!ac.signal.aborted) await sleep(backoff.maxMs / 2, o.signal);
      }
    } finally {
      unsubscribe();
    }
  }

  return Promise.all([poll(), events(), logs()]).then(() => undefined);
}

function describe(err: unknown): string {
  if (isCmeshError(err)) return err.hint ? `${err.message} (${err.hint})` : err.message;
  return messageOf(err);
}

/** Runs one key's effect through the control API and reports its outcome inline. `spec` is needed only by rebuild. */
export async function runEffect(client: DashClient, project: string, spec: ProjectSpec | undefined, effect: Effect, dispatch: (...a: Action[]) => void): Promise<void> {
  const base = `/v1/projects/${encodeURIComponent(project)}`;
  const ok = (text: string): void => dispatch({ type: 'result', ok: true, text });
  try {
    switch (effect.kind) {
      case 'scale':
        await client.request('POST', `${base}/scale`, { services: { [effect.service]: effect.replicas } });
        return ok(`scaled ${effect.service} to ${effect.replicas}`);
      case 'restart': {
        const r = await client.request<{ replicas: ReplicaStatus[] }>('POST', `${base}/restart`, { services: [effect.service] });
        return ok(`restarted ${effect.service} (${r.replicas.filter((x) => x.service === effect.service).length} replicas)`);
      }
      case 'drain':
        await client.request('POST', `${base}/drain`, { service: effect.service, replica: effect.replica, drained: effect.drained });
        return ok(`${effect.drained ? 'drained' : 'undrained'} ${effect.service}-${effect.replica}`);
      case 'kill': {
        const r = await client.request<KillReplicaResult>('POST', `${base}/kill`, { service: effect.service, replica: effect.replica });
        // A daemon from before `replacedBy` runs only local projects.
        return ok(`killed ${r.killed}; ${r.replacedBy === 'swarm' ? 'Swarm replaces it' : 'the supervisor replaces it'}`);
      }
      case 'build':
        if (!spec) {
          return dispatch({ type: 'result', ok: false, text: 'rebuild needs the compose file: run `cmesh dash` in the project directory (or with -f)' });
        }
        await client.operation(`${base}/up`, { project: spec, services: [effect.service], build: 'always', wait: false }, (frame) => {
          if (frame.kind === 'event') dispatch({ type: 'event', event: frame.event });
        });
        return ok(`rebuilt and rolled out ${effect.service}`);
      case 'quit':
        return;
    }
  } catch (err) {
    dispatch({ type: 'result', ok: false, text: describe(err) });
  }
}
