// ProjectReconciler on the fake engine: serialization, coalescing, self-healing, backoff restarts, failures, down.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DesiredProject } from '../api/desired.ts';
import { CmeshError } from '../api/errors.ts';
import type { DaemonEvent } from '../api/events.ts';
import { FakeEngine } from '../engine/fake-engine.ts';
import { ProjectReconciler } from './loop.ts';
import { desired, project, svc } from './testing.ts';
import { sleep } from './wait.ts';

interface Harness {
  engine: FakeEngine;
  loop: ProjectReconciler;
  events: DaemonEvent[];
  passes: () => number;
  set: (d: DesiredProject | undefined) => void;
  stop: () => void;
}

function harness(d: DesiredProject | undefined, engine = new FakeEngine(), resyncMs = 60_000): Harness {
  let current = d;
  let passes = 0;
  const events: DaemonEvent[] = [];
  const ac = new AbortController();
  const loop = new ProjectReconciler({
    engine,
    name: d?.project.name ?? 'demo',
    getDesired: () => {
      passes++;
      return current;
    },
    emit: (e) => events.push(e),
    signal: ac.signal,
    resyncMs,
    now: () => engine.now(),
    execute: { pollMs: 5, gateTimeoutMs: 1_000 },
  });
  return { engine, loop, events, passes: () => passes, set: (x) => (current = x), stop: () => ac.abort() };
}

const demo = desired(project('demo', [svc('web', { replicas: 2 }), svc('cache')]));

async function names(engine: FakeEngine): Promise<string[]> {
  const list = await engine.listContainers({ labels: { 'dev.cmesh.project': 'demo' } });
  return list.map((c) => `${c.name}:${c.state}`).sort();
}

/** Slows every list call so passes overlap with the calls under test. */
function slow(engine: FakeEngine, ms: number): FakeEngine {
  const list = engine.listContainers.bind(engine);
  engine.listContainers = async (filter) => {
    await sleep(ms);
    return list(filter);
  };
  return engine;
}

test('10 concurrent reconcileNow calls converge to one consistent set without duplicates', async () => {
  const h = harness(demo, slow(new FakeEngine(), 5));
  try {
    const results = await Promise.all(Array.from({ length: 10 }, () => h.loop.reconcileNow()));
    assert.equal(results.length, 10);
    assert.deepEqual(await names(h.engine), ['demo-cache-1:running', 'demo-web-1:running', 'demo-web-2:running']);
    assert.equal(h.engine.callsOf('createContainer').length, 3, 'each replica created exactly once');
    assert.ok(h.passes() <= 2, `coalesced into at most 2 passes, got ${h.passes()}`);
  } finally {
    h.stop();
  }
});

test('wakes during a pass coalesce into exactly one more pass', async () => {
  const h = harness(demo, slow(new FakeEngine(), 20));
  try {
    const first = h.loop.reconcileNow();
    for (let i = 0; i < 5; i++) h.loop.wake(`event ${i}`);
    await first;
    await sleep(100);
    assert.equal(h.passes(), 2);
  } finally {
    h.stop();
  }
});

test('reconcileNow resolves only after a pass that started after the call', async () => {
  const h = harness(demo, slow(new FakeEngine(), 20));
  try {
    const inFlight = h.loop.reconcileNow();
    await sleep(5); // the first pass is now observing with the old desired state
    h.set({ ...demo, generation: 2, scale: { web: 3 } });
    const result = await h.loop.reconcileNow();
    await inFlight;
    assert.equal(result.generation, 2);
    assert.ok((await names(h.engine)).includes('demo-web-3:running'));
  } finally {
    h.stop();
  }
});

test('self-heals a replica removed behind its back, on wake and on resync', async () => {
  const h = harness(demo, new FakeEngine(), 30);
  try {
    await h.loop.reconcileNow();
    const before = h.engine.container('demo-web-1')!.id;
    h.engine.simulateRemoval('demo-web-1');
    h.loop.wake('engine event: destroy');
    await h.loop.reconcileNow();
    const after = h.engine.container('demo-web-1');
    assert.ok(after && after.id !== before && after.state === 'running');
    // No wake at all: the periodic resync notices.
    h.engine.simulateRemoval('demo-cache-1');
    for (let i = 0; i < 100 && h.engine.container('demo-cache-1')?.state !== 'running'; i++) await sleep(10);
    assert.equal(h.engine.container('demo-cache-1')?.state, 'running');
  } finally {
    h.stop();
  }
});

test('a crashed replica restarts only after its backoff (1 s, then 2 s) on the injected clock', async () => {
  const h = harness(desired(project('demo', [svc('web')])));
  try {
    await h.loop.reconcileNow();
    h.engine.simulateExit('demo-web-1', 1);
    let r = await h.loop.reconcileNow();
    assert.equal(r.deferred, 1);
    assert.equal(r.wakeAt, h.engine.now() + 1_000);
    assert.equal(h.engine.container('demo-web-1')?.state, 'exited');
    assert.ok(h.events.some((e) => e.type === 'restart-scheduled' && e.delayMs === 1_000));
    h.engine.advance(1_000);
    await h.loop.reconcileNow();
    assert.equal(h.engine.container('demo-web-1')?.state, 'running');

    h.engine.simulateExit('demo-web-1', 1);
    h.engine.advance(1_999);
    r = await h.loop.reconcileNow();
    assert.equal(h.engine.container('demo-web-1')?.state, 'exited', 'second crash waits 2 s');
    h.engine.advance(1);
    await h.loop.reconcileNow();
    assert.equal(h.engine.container('demo-web-1')?.state, 'running');
    const [row] = h.loop.status();
    assert.equal(row?.restarts, 2);
    assert.equal(h.engine.callsOf('createContainer').length, 1, 'restarted in place, never recreated');
  } finally {
    h.stop();
  }
});

function scheduled(events: DaemonEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'restart-scheduled' ? [`${e.service}#${e.replica} attempt=${e.attempt} delay=${e.delayMs}`] : []));
}

test('restart-scheduled: one event per scheduled restart however many passes run during its backoff; a new crash is news', async () => {
  const h = harness(desired(project('demo', [svc('web')])));
  try {
    await h.loop.reconcileNow();
    h.engine.simulateExit('demo-web-1', 1);
    for (let i = 0; i < 4; i++) {
      const r = await h.loop.reconcileNow();
      assert.equal(r.deferred, 1, `pass ${i} still waits for the backoff`);
      h.engine.advance(200);
    }
    assert.deepEqual(scheduled(h.events), ['web#1 attempt=1 delay=1000']);

    h.engine.advance(200); // due: this pass restarts it
    await h.loop.reconcileNow();
    assert.equal(h.engine.container('demo-web-1')?.state, 'running');
    h.engine.simulateExit('demo-web-1', 1);
    for (let i = 0; i < 4; i++) {
      await h.loop.reconcileNow();
      h.engine.advance(300);
    }
    assert.equal(h.engine.container('demo-web-1')?.state, 'exited', 'second crash still inside its 2 s backoff');
    assert.deepEqual(scheduled(h.events), ['web#1 attempt=1 delay=1000', 'web#1 attempt=2 delay=2000']);
  } finally {
    h.stop();
  }
});

test('restart-scheduled: a pending restart that drops out of one pass (health flap) is not announced again', async () => {
  const h = harness(desired(project('demo', [svc('web')])));
  try {
    await h.loop.reconcileNow();
    h.engine.setHealth('demo-web-1', 'unhealthy');
    assert.equal((await h.loop.reconcileNow()).deferred, 1);
    h.engine.setHealth('demo-web-1', 'healthy');
    assert.equal((await h.loop.reconcileNow()).deferred, 0);
    h.engine.setHealth('demo-web-1', 'unhealthy');
    h.engine.advance(100);
    assert.equal((await h.loop.reconcileNow()).deferred, 1, 'the same restart, still due at the same time');
    assert.deepEqual(scheduled(h.events), ['web#1 attempt=1 delay=1000']);
  } finally {
    h.stop();
  }
});

test('a failing pass is reported and retried; the loop survives', async () => {
  const h = harness(demo);
  try {
    h.engine.failNext('listContainers', new CmeshError('CMESH_E_ENGINE_UNAVAILABLE', 'engine down'));
    await assert.rejects(h.loop.reconcileNow(), /engine down/);
    const failed = h.events.find((e) => e.type === 'reconcile' && e.phase === 'failed');
    assert.equal(failed?.type === 'reconcile' && failed.error?.code, 'CMESH_E_ENGINE_UNAVAILABLE');
    // The retry timer (1 s backoff) brings it back without anyone asking.
    for (let i = 0; i < 150 && (await names(h.engine)).length < 3; i++) await sleep(10);
    assert.equal((await names(h.engine)).length, 3);
  } finally {
    h.stop();
  }
});

test('waitReady: ok when running, CMESH_E_UNHEALTHY with logs, CMESH_E_CONTAINER_EXITED fast for restart: no', async () => {
  const d = desired(project('demo', [svc('web', { healthcheck: { test: ['CMD', 'true'], disable: false } }), svc('job', { restart: 'no' })]));
  const h = harness(d);
  try {
    await h.loop.reconcileNow();
    h.engine.setHealth('demo-web-1', 'unhealthy');
    h.engine.emitLog('demo-web-1', 'GET / 500');
    await assert.rejects(h.loop.waitReady({ services: ['web'], timeoutMs: 30, pollMs: 5 }), (e: CmeshError) => {
      assert.equal(e.code, 'CMESH_E_UNHEALTHY');
      assert.match(e.message, /web#1 \(unhealthy\)/);
      assert.deepEqual(e.details['logs'], { 'demo-web-1': ['GET / 500'] });
      return true;
    });
    h.engine.setHealth('demo-web-1', 'healthy');
    await h.loop.waitReady({ services: ['web'], timeoutMs: 1_000, pollMs: 5 });
    h.engine.simulateExit('demo-job-1', 2);
    await assert.rejects(h.loop.waitReady({ services: [], timeoutMs: 5_000, pollMs: 5 }), /CMESH_E_CONTAINER_EXITED|will not be restarted/);
  } finally {
    h.stop();
  }
});

test('down removes containers in reverse dependency order, then the network', async () => {
  const h = harness(demo);
  try {
    await h.loop.reconcileNow();
    h.set(undefined); // the daemon forgets the desired state first
    const result = await h.loop.down({ volumes: true, removeOrphans: false });
    assert.equal(result.actions, 4);
    assert.deepEqual(await names(h.engine), []);
    assert.deepEqual(await h.engine.listNetworks({ 'dev.cmesh.project': 'demo' }), []);
    assert.deepEqual(h.loop.status(), []);
    // Passes after down converge toward "nothing desired": no resurrection.
    await h.loop.reconcileNow();
    assert.deepEqual(await names(h.engine), []);
  } finally {
    h.stop();
  }
});

test('abort rejects pending calls and stops the loop', async () => {
  const h = harness(demo, slow(new FakeEngine(), 20));
  const pending = h.loop.reconcileNow();
  const queued = h.loop.reconcileNow();
  h.stop();
  await assert.rejects(queued);
  await pending.catch(() => undefined);
  await assert.rejects(h.loop.reconcileNow(), /stopped/);
});
