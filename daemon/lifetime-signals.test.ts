// The daemon's long-lived AbortSignals (its own, the mesh's health checks', the engine watch's, each project loop's)
// must not collect a listener per stream, follower, probe or pool: a thousand streams the way `cmesh dash` opens them,
// and services leaving and rejoining the compose file, leave every such signal where it started.

import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DaemonClient } from '../cli/daemon-client.ts';
import { freePort } from '../test/helpers/free-port.ts';
import type { ReplicaStatus, UpRequest } from './api/control.ts';
import type { ProjectSpec } from './api/project.ts';
import { type RunningDaemon, startDaemon } from './daemon.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { resolveHome } from './api/home.ts';
import { project, svc } from './reconcile/testing.ts';

/**
 * Every AbortSignal that is given an 'abort' listener from here on, held weakly. Patching the prototype is the only
 * way to see signals private to the daemon's modules without widening their API for a test.
 */
const tracked: WeakRef<AbortSignal>[] = [];
const seen = new WeakSet<AbortSignal>();
const originalAdd = EventTarget.prototype.addEventListener;
const warnings: string[] = [];
const onWarning = (w: Error): void => {
  if (w.name === 'MaxListenersExceededWarning') warnings.push(w.message);
};

let dir: string;
let daemon: RunningDaemon;
let client: DaemonClient;
let engine: FakeEngine;
let shop: ProjectSpec;

const STREAMS = 1000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const up = (spec: ProjectSpec): Promise<unknown> =>
  client.operation('/v1/projects/shop/up', { project: spec, services: [], build: 'auto', wait: false } satisfies UpRequest, () => {});

/** Listeners per live signal; the least of a few looks, so a probe or nap in flight at one instant is not counted. */
async function listenerCounts(): Promise<Map<AbortSignal, number>> {
  const least = new Map<AbortSignal, number>();
  for (let look = 0; look < 10; look++) {
    for (const ref of tracked) {
      const s = ref.deref();
      if (!s || s.aborted) continue;
      const n = getEventListeners(s, 'abort').length;
      least.set(s, Math.min(n, least.get(s) ?? n));
    }
    await sleep(20);
  }
  return least;
}

/** Opens a stream, reads its first frame (so the daemon has set it all up), then leaves as a closing dashboard does. */
async function openAndClose(path: string): Promise<void> {
  const ac = new AbortController();
  const frames = client.stream<unknown>('GET', path, undefined, ac.signal);
  const first = await frames.next();
  assert.equal(first.done, false, `${path} sent nothing`);
  ac.abort();
  await frames.return(undefined).catch(() => undefined);
}

before(async () => {
  EventTarget.prototype.addEventListener = function (this: EventTarget, ...args: Parameters<EventTarget['addEventListener']>) {
    if (args[0] === 'abort' && this instanceof AbortSignal && !seen.has(this)) {
      seen.add(this);
      tracked.push(new WeakRef(this));
    }
    return originalAdd.apply(this, args);
  };
  process.on('warning', onWarning);
  dir = await mkdtemp(join(tmpdir(), 'cm-sig-'));
  engine = new FakeEngine({ now: Date.now, firstHostPort: await freePort() });
  daemon = await startDaemon({ home: resolveHome({ CMESH_HOME: dir }), engine, version: 'test', resyncMs: 60_000 });
  client = new DaemonClient({ home: daemon.home, env: {}, stderr: { write: () => true }, autoStart: false });
  // Five services (pools), one of them a 4-replica web behind a published port, all probed by the mesh.
  const fast = { intervalMs: 50, timeoutMs: 200, rise: 1, fall: 2 };
  const withHealth = (s: ReturnType<typeof svc>) => ({ ...s, mesh: { ...s.mesh, health: fast } });
  shop = project('shop', [
    withHealth(svc('web', { replicas: 4, ports: [{ target: 3000, published: await freePort(), protocol: 'tcp' }] })),
    ...['api', 'cache', 'queue', 'worker'].map((name) => withHealth(svc(name, { replicas: 2, expose: [3000] }))),
  ]);
});

after(async () => {
  EventTarget.prototype.addEventListener = originalAdd;
  process.off('warning', onWarning);
  await daemon?.close();
  await rm(dir, { recursive: true, force: true });
});

test(`${STREAMS} streams (events, logs -f, dash's polls) and services leaving and rejoining leave the daemon's signals at their baseline`, async () => {
  await up(shop);
  const ps = await client.request<ReplicaStatus[]>('GET', '/v1/projects/shop/ps');
  assert.equal(ps.filter((r) => r.state === 'running').length, 12);
  for (const r of ps) engine.emitLog(r.container, `${r.name} listening`);
  await sleep(300); // the mesh's first probes, the loop's follow-up wakes
  const baseline = await listenerCounts();
  const subscribers = daemon.bus.stats().subscribers;
  // The mesh's probes, the engine watch and the project loop hang on these from the start.
  assert.ok([...baseline.values()].some((n) => n > 0), 'the daemon has long-lived signals with listeners');

  const withoutCache = { ...shop, services: Object.fromEntries(Object.entries(shop.services).filter(([name]) => name !== 'cache')) };
  // What `cmesh dash` does, by ten dashboards at a time: the project's event feed, the selected service's logs, the polls.
  const dash = async (): Promise<void> => {
    await openAndClose('/v1/events?project=shop&since=0');
    await openAndClose('/v1/projects/shop/logs?follow=1&tail=20&service=web');
    await client.request('GET', '/v1/services?project=shop');
    await client.request('GET', '/v1/projects/shop/ps');
  };
  for (let round = 0; round < STREAMS / 20; round++) {
    await Promise.all([...Array.from({ length: 10 }, dash), client.request('GET', '/v1/info')]);
    // A service taken out of the compose file and put back: its pool (and health checks) go and come again.
    if (round % 10 === 5) {
      await up(withoutCache);
      await up(shop);
    }
  }
  await sleep(300);

  const now = await listenerCounts();
  const grown = [...baseline].filter(([s, n]) => s.aborted === false && (now.get(s) ?? 0) > n).map(([s, n]) => `${n} → ${now.get(s)}`);
  assert.deepEqual(grown, [], 'long-lived signals holding more abort listeners than before the streams');
  assert.equal(daemon.bus.stats().subscribers, subscribers, 'every event subscription closed');
  assert.deepEqual(warnings, []);
});
