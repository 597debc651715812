// ProjectManager on the fake engine: engine events wake the right loop; a dropped event stream is re-opened with a
// doubling, capped backoff and every project is woken (events may have been missed); `up --wait` answers from the
// list that proved it ready.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EventBus } from './event-bus.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { ProjectManager } from './projects.ts';
import { project, svc } from './reconcile/testing.ts';
import { DesiredStore } from './store.ts';
import type { ContainerInfo } from './api/engine.ts';
import { eventually } from '../test/helpers/eventually.ts';

test('event stream drop: reconnect with backoff 1x,2x,4x capped, then wake every project', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-pm-'));
  const engine = new FakeEngine({ now: Date.now });
  const manager = new ProjectManager({
    engine,
    store: new DesiredStore(dir, () => undefined),
    bus: new EventBus(),
    resyncMs: 60_000,
    reconnect: { initialMs: 40, maxMs: 160 },
  });
  try {
    await manager.open();
    const spec = project('shop', [svc('web', { replicas: 2, restart: 'always' })]);
    await manager.up('shop', { project: spec, services: [], build: 'auto', wait: false });
    await eventually(() => engine.subscriberCount === 1, 'the event subscription');

    engine.setEngineDown(true);
    await new Promise((r) => setTimeout(r, 1000));
    const times = engine.callsOf('events').map((c) => c.time);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Retries after ~40, 80, 160, 160… ms: doubling, then capped at maxMs. Timers never fire early, so the lower
    // bounds are exact; the upper bound is loose because a loaded CI machine fires them late.
    assert.ok(gaps.length >= 4, `retries: ${gaps}`);
    assert.ok(gaps[0]! >= 35, `first retry after ${gaps[0]} ms`);
    assert.ok(gaps[1]! >= 75, `second retry after ${gaps[1]} ms`);
    assert.ok(gaps.slice(2).every((g) => g >= 150 && g < 600), `capped retries: ${gaps}`);

    engine.setEngineDown(false);
    await eventually(() => engine.subscriberCount === 1, 'the re-opened subscription');
    // A replica that dies now is noticed through the event and restarted by its loop.
    const [victim] = await engine.listContainers({ labels: { 'dev.cmesh.service': 'web' } });
    engine.simulateExit(victim!.id, 137);
    await eventually(async () => (await engine.inspectContainer(victim!.id))?.state === 'running', 'the restart', 5000);
  } finally {
    await manager.close();
    await rm(dir, { recursive: true, force: true });
  }
  assert.equal(engine.subscriberCount, 0, 'close() ends the event subscription');
});

test('up --wait: the answer\'s rows come from the look that found the replicas ready, not from one more list', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-pm-'));
  const engine = new FakeEngine({ now: Date.now });
  let listsWhenReady = -1;
  class Watched extends ProjectManager {
    protected override async waitReady(...args: Parameters<ProjectManager['waitReady']>): Promise<ContainerInfo[]> {
      const ready = await super.waitReady(...args);
      listsWhenReady = engine.callsOf('listContainers').length;
      return ready;
    }
  }
  const manager = new Watched({ engine, store: new DesiredStore(dir, () => undefined), bus: new EventBus(), resyncMs: 60_000 });
  try {
    await manager.open();
    const spec = project('shop', [svc('web', { replicas: 2 })]);
    const answer = (await manager.up('shop', { project: spec, services: [], build: 'auto', wait: true })) as { replicas: { state: string }[] };
    assert.ok(listsWhenReady > 0, 'up --wait waited');
    assert.equal(engine.callsOf('listContainers').length, listsWhenReady, 'no list after the wait');
    assert.deepEqual(answer.replicas.map((r) => r.state), ['running', 'running']);
  } finally {
    await manager.close();
    await rm(dir, { recursive: true, force: true });
  }
});
