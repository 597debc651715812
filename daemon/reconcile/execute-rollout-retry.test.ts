// A rollout interrupted by the engine (not by its new replica) is no verdict on the version: the loop retries it with
// backoff, the old replicas keep serving meanwhile, and the rollout completes once the engine is back.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DesiredProject } from '../api/desired.ts';
import { CmeshError, isCmeshError } from '../api/errors.ts';
import type { DaemonEvent } from '../api/events.ts';
import { FakeEngine } from '../engine/fake-engine.ts';
import type { RolloutHooks } from './action-context.ts';
import { ProjectReconciler } from './loop.ts';
import { desired, project, svc } from './testing.ts';
import { eventually } from '../../test/helpers/eventually.ts';

const ports = [{ target: 3000, published: 8080, protocol: 'tcp' as const }];
const v = (version: string, generation: number): DesiredProject =>
  desired(project('demo', [svc('web', { replicas: 2, ports, environment: { VERSION: version } })]), { generation });

async function replicas(engine: FakeEngine): Promise<string[]> {
  const list = await engine.listContainers({ labels: { 'dev.cmesh.project': 'demo' }, all: true });
  return list.map((c) => `${c.name}:${c.state}:${c.labels['dev.cmesh.spec-hash']}`).sort();
}

test('engine down mid-rollout: no rollback or failed mark, old replicas keep serving, the rollout resumes when it returns', async () => {
  const engine = new FakeEngine();
  const events: DaemonEvent[] = [];
  let current = v('1', 1);
  // The mesh's health gate: the first new replica's wait is where the engine goes away (the exit watcher's next
  // inspect then fails with CMESH_E_ENGINE_UNAVAILABLE); once the engine is back every new replica passes at once.
  let waits = 0;
  const rolloutHooks: RolloutHooks = {
    waitHealthy: (_next, _endpoints, _timeoutMs, signal) => {
      if (waits++ > 0) return Promise.resolve(true);
      engine.setEngineDown(true);
      return new Promise((resolve) => signal?.addEventListener('abort', () => resolve(false), { once: true }));
    },
    discard: () => {},
    promote: () => {},
  };
  const ac = new AbortController();
  const loop = new ProjectReconciler({
    engine,
    name: 'demo',
    getDesired: () => current,
    emit: (e) => events.push(e),
    signal: ac.signal,
    resyncMs: 60_000,
    now: () => engine.now(),
    rolloutHooks,
  });
  try {
    await loop.reconcileNow();
    const old = await replicas(engine);
    assert.deepEqual(old.map((r) => r.split(':').slice(0, 2).join(':')), ['demo-web-1:running', 'demo-web-2:running']);

    current = v('2', 2);
    await assert.rejects(loop.reconcileNow(), (e: unknown) => {
      assert.ok(isCmeshError(e), String(e));
      assert.equal(e.code, 'CMESH_E_ENGINE_UNAVAILABLE', `${e.code}: ${e.message}`);
      return true;
    });
    const rollout = events.filter((e) => e.type === 'rollout');
    assert.ok(!rollout.some((e) => e.phase === 'rolled-back'), 'no rollback: the new replica did nothing wrong');
    assert.ok(rollout.some((e) => e.phase === 'progress' && /interrupted/.test(e.text ?? '')), JSON.stringify(rollout));

    // The engine comes back: the old replicas served throughout; the new container could not be removed while it
    // was down and is left for the next pass.
    engine.setEngineDown(false);
    const during = await replicas(engine);
    for (const r of old) assert.ok(during.includes(r), `${r} still there: ${during.join(', ')}`);
    assert.ok(during.some((r) => r.startsWith('demo-web-1-next:')), `leftover -next: ${during.join(', ')}`);

    // The loop's own backoff timer retries (no `up`): the version was not marked failed, so the rollout completes.
    await eventually(() => events.some((e) => e.type === 'rollout' && e.phase === 'done'), 'the retried rollout to finish', 10_000);
    const after = await replicas(engine);
    assert.deepEqual(after.map((r) => r.split(':').slice(0, 2).join(':')), ['demo-web-1:running', 'demo-web-2:running']);
    const newHash = after[0]!.split(':')[2];
    assert.notEqual(newHash, old[0]!.split(':')[2], 'new spec hash');
    assert.ok(after.every((r) => r.endsWith(`:${newHash}`)), after.join(', '));
    assert.equal((await loop.reconcileNow()).actions, 0, 'converged');
  } finally {
    ac.abort();
  }
});

test('a replica verdict in one step still marks the version failed when another step hit an engine error first', async () => {
  const engine = new FakeEngine();
  const ac = new AbortController();
  const surge2 = (version: string, generation: number): DesiredProject => {
    const web = svc('web', { replicas: 2, ports, environment: { VERSION: version } });
    return desired(project('demo', [{ ...web, mesh: { ...web.mesh, rollout: { maxSurge: 2 } } }]), { generation });
  };
  let current = surge2('1', 1);
  // Surge 2, both new replicas under way at once: the engine answers 500 to every inspect of replica 1's new
  // container (an engine error); replica 2's new container never passes health (a verdict), once replica 1 gave up.
  let broken = '';
  let interrupted!: () => void;
  const replica1GaveUp = new Promise<void>((resolve) => {
    interrupted = resolve;
  });
  const emit = (e: DaemonEvent): void => {
    if (e.type === 'rollout' && e.phase === 'progress' && e.replica === 1 && /interrupted/.test(e.text ?? '')) interrupted();
  };
  const inspect = engine.inspectContainer.bind(engine);
  engine.inspectContainer = async (id) => {
    if (id === broken) throw new CmeshError('CMESH_E_ENGINE', 'Docker engine error during inspect: server error (HTTP 500)');
    return inspect(id);
  };
  const rolloutHooks: RolloutHooks = {
    waitHealthy: (next, _endpoints, _timeoutMs, signal) => {
      if (next.replica === 1) {
        broken = next.id;
        return new Promise((resolve) => signal?.addEventListener('abort', () => resolve(false), { once: true }));
      }
      // Bounded: code that never reports replica 1 as interrupted must fail this test, not hang it.
      return Promise.race([replica1GaveUp, new Promise((r) => setTimeout(r, 5_000))]).then(() => false);
    },
    discard: () => {},
    promote: () => {},
  };
  const loop = new ProjectReconciler({ engine, name: 'demo', getDesired: () => current, emit, signal: ac.signal, resyncMs: 60_000, now: () => engine.now(), rolloutHooks });
  try {
    await loop.reconcileNow();
    current = surge2('bad', 2);
    // The first failure (replica 1's engine error) is what the pass reports...
    await assert.rejects(loop.reconcileNow(), (e: unknown) => isCmeshError(e) && e.code === 'CMESH_E_ENGINE' && /HTTP 500/.test(e.message));
    broken = '';
    // ...but replica 2's verdict holds the version back: the next pass plans no rollout for it.
    assert.equal((await loop.reconcileNow()).actions, 0);
  } finally {
    ac.abort();
  }
});
