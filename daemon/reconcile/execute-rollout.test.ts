// Start-first rollouts on the fake engine: order of operations, rollback on timeout and on exit, no retry of a bad hash.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DesiredProject } from '../api/desired.ts';
import { isCmeshError } from '../api/errors.ts';
import type { DaemonEvent } from '../api/events.ts';
import { FakeEngine } from '../engine/fake-engine.ts';
import type { RolloutHooks, StopHooks } from './action-context.ts';
import { execute } from './execute.ts';
import { observe } from './observe.ts';
import { plan } from './plan.ts';
import { EMPTY_VIEW } from './supervisor.ts';
import { desired, project, svc } from './testing.ts';

const ports = [{ target: 3000, published: 8080, protocol: 'tcp' as const }];
const v = (version: string, replicas = 2, maxSurge?: number): DesiredProject => {
  const web = svc('web', { replicas, ports, environment: { VERSION: version } });
  return desired(project('demo', [maxSurge === undefined ? web : { ...web, mesh: { ...web.mesh, rollout: { maxSurge } } }]));
};

async function planFor(engine: FakeEngine, d: DesiredProject, failedRollouts: Record<string, string> = {}) {
  const observed = await observe(engine, d.project.name, Object.keys(d.project.services));
  return plan(d, observed, { now: engine.now(), supervisor: EMPTY_VIEW, failedRollouts });
}

function hooks(log: string[], healthy: (name: string) => boolean | Promise<boolean> = () => true): RolloutHooks {
  return {
    waitHealthy: async (next) => {
      log.push(`wait ${next.name}`);
      return healthy(next.name);
    },
    discard: (next) => log.push(`discard ${next.name}`),
    promote: (next) => log.push(`promote ${next.name}`),
  };
}

/** Logs each old replica's drain; a second drain of the same one would be a bug (it could wait a grace period twice). */
function drainLog(log: string[], onFirst: () => void = () => {}): StopHooks {
  const seen = new Set<string>();
  return {
    beforeStop: async (ref) => {
      assert.ok(!seen.has(ref.name), `${ref.name} drained twice`);
      seen.add(ref.name);
      log.push(`drain ${ref.name}`);
      onFirst();
    },
    afterStop: () => {},
  };
}

async function running(engine: FakeEngine) {
  const list = await engine.listContainers({ labels: { 'dev.cmesh.project': 'demo' }, all: true });
  return list.map((c) => `${c.name}:${c.state}:${(c.labels['dev.cmesh.spec-hash'] ?? '').slice(0, 6)}`).sort();
}

test('start-first: each new replica is healthy before its old one is drained, removed and renamed over', async () => {
  const engine = new FakeEngine();
  await execute(await planFor(engine, v('1')), engine, () => {});
  const before = await running(engine);
  const log: string[] = [];
  const events: DaemonEvent[] = [];
  const p = await planFor(engine, v('2'));
  assert.deepEqual(p.stages[0]!.actions.map((a) => a.kind), ['rollout']);
  await execute(p, engine, (e) => events.push(e), { rolloutHooks: hooks(log), stopHooks: drainLog(log) });
  // Per replica: healthy, then drained, then promoted; replica 2 starts only once replica 1's old one is drained.
  const at = (entry: string) => log.indexOf(entry);
  for (const i of [1, 2]) assert.ok(at(`wait demo-web-${i}-next`) < at(`drain demo-web-${i}`) && at(`drain demo-web-${i}`) < at(`promote demo-web-${i}-next`), log.join(', '));
  assert.ok(at('drain demo-web-1') < at('wait demo-web-2-next'), log.join(', '));
  assert.equal(log.length, 6, log.join(', '));
  const after = await running(engine);
  assert.deepEqual(after.map((s) => s.split(':').slice(0, 2).join(':')), ['demo-web-1:running', 'demo-web-2:running']);
  assert.notDeepEqual(after, before, 'new spec hash');
  assert.deepEqual(events.filter((e) => e.type === 'rollout').map((e) => (e.type === 'rollout' ? e.phase : '')), ['start', 'progress', 'progress', 'done']);
  assert.equal((await planFor(engine, v('2'))).stages.length, 0, 'converged');
});

test('the old replica stops while the next one starts; never more new replicas under way than max_surge', async () => {
  for (const surge of [1, 2]) {
    const engine = new FakeEngine();
    const d = (version: string) => v(version, 3, surge);
    await execute(await planFor(engine, d('1')), engine, () => {});
    // Old containers take a while to stop (their grace period): the next step must not wait for that.
    const stop = engine.stopContainer.bind(engine);
    engine.stopContainer = async (id, timeoutSec) => {
      await new Promise((r) => setTimeout(r, 50));
      return stop(id, timeoutSec);
    };
    const log: string[] = [];
    let underway = 0;
    let maxUnderway = 0;
    const rolloutHooks = hooks(log, () => {
      maxUnderway = Math.max(maxUnderway, ++underway);
      return new Promise((r) => setTimeout(() => r(true), 10));
    });
    const drains = drainLog(log, () => underway--);
    const p = await planFor(engine, d('2'));
    const action = p.stages[0]!.actions[0]!;
    assert.equal(action.kind === 'rollout' && action.maxSurge, surge);
    await execute(p, engine, () => {}, { rolloutHooks, stopHooks: drains });
    assert.equal(maxUnderway, surge, log.join(', '));
    assert.ok(log.indexOf('wait demo-web-2-next') < log.indexOf('promote demo-web-1-next'), `overlap (surge ${surge}): ${log.join(', ')}`);
    const after = await running(engine);
    assert.deepEqual(after.map((s) => s.split(':').slice(0, 2).join(':')), ['demo-web-1:running', 'demo-web-2:running', 'demo-web-3:running']);
    assert.equal((await planFor(engine, d('2'))).stages.length, 0, 'converged');
  }
});

test('a new replica that never becomes healthy is removed; the old ones keep serving; the hash is not retried', async () => {
  const engine = new FakeEngine();
  await execute(await planFor(engine, v('1')), engine, () => {});
  const before = await running(engine);
  const log: string[] = [];
  const events: DaemonEvent[] = [];
  const failed: string[] = [];
  const p = await planFor(engine, v('bad'));
  await assert.rejects(
    execute(p, engine, (e) => events.push(e), { rolloutHooks: hooks(log, () => false), onRolledBack: (s, h) => failed.push(`${s}@${h}`) }),
    (e: unknown) => isCmeshError(e) && e.code === 'CMESH_E_ROLLOUT_FAILED' && /did not become healthy/.test(e.message),
  );
  assert.deepEqual(log, ['wait demo-web-1-next', 'discard demo-web-1-next']);
  assert.deepEqual(await running(engine), before, 'old replicas untouched, new container gone');
  const rolledBack = events.find((e) => e.type === 'rollout' && e.phase === 'rolled-back');
  assert.ok(rolledBack && rolledBack.type === 'rollout' && Array.isArray(rolledBack.logs));
  assert.equal(failed.length, 1);
  const hash = failed[0]!.split('@')[1]!;
  const again = await planFor(engine, v('bad'), { web: hash });
  assert.equal(again.stages.length, 0, 'the failed version is not retried');
  assert.match(again.notes.join('\n'), /rollout to .* failed/);
  assert.equal((await planFor(engine, v('fixed'), { web: hash })).stages[0]!.actions[0]!.kind, 'rollout', 'a new version rolls');
});

test('a new replica that exits during start is rolled back with its last log lines', async () => {
  const engine = new FakeEngine();
  await execute(await planFor(engine, v('1')), engine, () => {});
  const before = await running(engine);
  const log: string[] = [];
  const p = await planFor(engine, v('crash'));
  const crash = async (name: string) => {
    engine.emitLog(name, 'SyntaxError: Unexpected token');
    engine.simulateExit(name, 1);
    return new Promise<boolean>(() => {}); // the mesh would never call it healthy
  };
  await assert.rejects(execute(p, engine, () => {}, { rolloutHooks: hooks(log, crash) }), (e: unknown) => {
    assert.ok(isCmeshError(e) && e.code === 'CMESH_E_ROLLOUT_FAILED', String(e));
    assert.match(e.message, /exited with code 1/);
    assert.deepEqual(e.details['logs'], ['SyntaxError: Unexpected token']);
    return true;
  });
  assert.deepEqual(await running(engine), before);
});

test('a daemon crash mid-rollout converges: a pending next container is promoted when its old replica is gone', async () => {
  const engine = new FakeEngine();
  await execute(await planFor(engine, v('1')), engine, () => {});
  // Simulate the crash: replica 1's new container exists under its temporary name, the old one was already removed.
  const p = await planFor(engine, v('2'));
  const step = p.stages[0]!.actions[0]!.kind === 'rollout' ? p.stages[0]!.actions[0]!.steps[0]! : undefined;
  assert.ok(step);
  const { id } = await engine.createContainer(step.next);
  await engine.startContainer(id);
  await engine.removeContainer(step.target.id, { force: true });
  const recovery = await planFor(engine, v('2'));
  assert.deepEqual(recovery.stages[0]!.actions.map((a) => a.kind), ['promote', 'rollout']);
  await execute(recovery, engine, () => {}, { rolloutHooks: hooks([]) });
  const after = await running(engine);
  assert.deepEqual(after.map((s) => s.split(':').slice(0, 2).join(':')), ['demo-web-1:running', 'demo-web-2:running']);
  assert.equal((await planFor(engine, v('2'))).stages.length, 0);
});
