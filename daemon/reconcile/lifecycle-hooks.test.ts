// post_start / pre_stop through execute() on the fake engine: when they run, with which exec options, and what a
// failure does (post_start: the replica is killed and the pass fails; pre_stop: a warning, the stop goes on).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DesiredProject } from '../api/desired.ts';
import type { ContainerEngine } from '../api/engine.ts';
import type { CmeshError } from '../api/errors.ts';
import type { DaemonEvent } from '../api/events.ts';
import type { LifecycleHook } from '../api/project.ts';
import { FakeEngine } from '../engine/fake-engine.ts';
import { execute } from './execute.ts';
import { runPostStart, runPreStop } from './lifecycle-hooks.ts';
import { observe } from './observe.ts';
import { plan } from './plan.ts';
import { planDown } from './plan-down.ts';
import { EMPTY_VIEW } from './supervisor.ts';
import { desired, project, svc } from './testing.ts';

const hook = (script: string, extra: Partial<LifecycleHook> = {}): LifecycleHook => ({ command: ['sh', '-c', script], environment: {}, ...extra });

async function up(engine: FakeEngine, d: DesiredProject, events: DaemonEvent[]): Promise<void> {
  const observed = await observe(engine, d.project.name, Object.keys(d.project.services));
  await execute(plan(d, observed, { now: engine.now(), supervisor: EMPTY_VIEW }), engine, (e) => events.push(e));
}

async function down(engine: FakeEngine, d: DesiredProject, events: DaemonEvent[]): Promise<void> {
  const observed = await observe(engine, d.project.name, Object.keys(d.project.services));
  await execute(planDown(d, observed, { volumes: false, removeOrphans: false }, engine.now()), engine, (e) => events.push(e));
}

/** The fake's method calls and the container events, in the order they happened. */
function trail(engine: FakeEngine): string[] {
  return engine.calls.filter((c) => ['startContainer', 'exec', 'stopContainer', 'killContainer'].includes(c.method)).map((c) => c.method);
}

test('post_start runs after each start with its user, working_dir, environment and privileged, before "started"', async () => {
  const engine = new FakeEngine();
  const events: DaemonEvent[] = [];
  const order: string[] = [];
  engine.setExecHandler((c, command, options) => {
    order.push(`exec ${c.spec.name} ${command.at(-1)} ${JSON.stringify(options)}`);
    return { exitCode: 0, output: '' };
  });
  const hooks = [hook('echo one', { user: 'nobody', workingDir: '/data', environment: { MODE: 'x' }, privileged: true }), hook('echo two')];
  const d = desired(project('demo', [svc('web', { replicas: 1, postStart: hooks })]));
  await up(engine, d, events);
  await up(engine, d, events); // a second pass starts nothing, so runs no hook
  assert.deepEqual(order, [
    'exec demo-web-1 echo one {"user":"nobody","workingDir":"/data","env":{"MODE":"x"},"privileged":true}',
    'exec demo-web-1 echo two {}',
  ]);
  assert.deepEqual(trail(engine), ['startContainer', 'exec', 'exec']);
});

test('the started event comes only after post_start succeeded', async () => {
  const engine = new FakeEngine();
  const seen: string[] = [];
  engine.setExecHandler(() => {
    seen.push('hook');
    return { exitCode: 0, output: '' };
  });
  const d = desired(project('demo', [svc('web', { postStart: [hook('true')] })]));
  const observed = await observe(engine, 'demo', ['web']);
  await execute(plan(d, observed, { now: engine.now(), supervisor: EMPTY_VIEW }), engine, (e) => {
    if (e.type === 'container') seen.push(e.action);
  });
  assert.deepEqual(seen, ['created', 'hook', 'started']);
});

test('a failing post_start kills the replica, warns, and fails the pass with CMESH_E_HOOK_FAILED', async () => {
  const engine = new FakeEngine();
  engine.setExecHandler(() => ({ exitCode: 3, output: 'cannot write /ready\n' }));
  const events: DaemonEvent[] = [];
  const d = desired(project('demo', [svc('web', { postStart: [hook('touch /ready')] })]));
  await assert.rejects(up(engine, d, events), (e: CmeshError) => {
    assert.equal(e.code, 'CMESH_E_HOOK_FAILED');
    assert.match(e.message, /post_start\[0\] \(sh -c touch \/ready\) of demo-web-1 exited with code 3/);
    assert.match(e.hint ?? '', /cannot write \/ready/);
    return true;
  });
  assert.equal(engine.container('demo-web-1')?.state, 'exited');
  assert.equal(engine.container('demo-web-1')?.exitCode, 137);
  assert.ok(events.some((e) => e.type === 'warning' && e.key === 'post_start' && e.service === 'web'));
  assert.ok(!events.some((e) => e.type === 'container' && e.action === 'started'));
});

test('pre_stop runs before the stop on down and scale-down; a failure warns and the stop goes on', async () => {
  const engine = new FakeEngine();
  const events: DaemonEvent[] = [];
  const execs: string[] = [];
  engine.setExecHandler((c, command) => {
    execs.push(`${c.spec.name}: ${command.at(-1)}`);
    return { exitCode: c.spec.name.endsWith('-2') ? 1 : 0, output: 'flush failed' };
  });
  const two = desired(project('demo', [svc('web', { replicas: 2, preStop: [hook('flush')] })]));
  await up(engine, two, events);
  assert.deepEqual(execs, [], 'pre_stop does not run on start');
  await up(engine, desired(project('demo', [svc('web', { replicas: 1, preStop: [hook('flush')] })]), { generation: 2 }), events);
  assert.deepEqual(execs, ['demo-web-2: flush']);
  assert.equal(engine.container('demo-web-2'), undefined, 'removed although its pre_stop failed');
  const warning = events.find((e) => e.type === 'warning' && e.key === 'pre_stop');
  assert.match(warning?.type === 'warning' ? warning.message : '', /demo-web-2 exited with code 1: flush failed; stopping it anyway/);
  engine.calls.length = 0;
  await down(engine, two, events);
  assert.deepEqual(execs, ['demo-web-2: flush', 'demo-web-1: flush']);
  assert.deepEqual(trail(engine), ['exec', 'stopContainer']);
  assert.equal(engine.containerCount, 0);
});

test('hooks are bounded by a timeout; an exec that never returns fails post_start and only warns in pre_stop', async () => {
  const calls: string[] = [];
  const engine = {
    exec: () => new Promise(() => {}),
    killContainer: async (id: string) => {
      calls.push(`kill ${id}`);
    },
  } as unknown as ContainerEngine;
  const events: DaemonEvent[] = [];
  const ctx = { engine, project: 'demo', emit: (e: DaemonEvent) => events.push(e), now: () => 0, timeoutMs: 30 };
  const ref = { id: 'c1', name: 'demo-web-1', service: 'web', replica: 1 };
  await assert.rejects(runPostStart(ctx, ref, [hook('sleep 100')]), /did not finish within 30 ms/);
  assert.deepEqual(calls, ['kill c1']);
  await runPreStop(ctx, ref, [hook('sleep 100')]);
  assert.equal(events.filter((e) => e.type === 'warning').length, 2);
});

test('a rollout runs post_start in the new container before its health wait; a failure rolls back, pre_stop runs on the old', async () => {
  const engine = new FakeEngine();
  const ports = [{ target: 3000, published: 8080, protocol: 'tcp' as const }];
  const web = (version: string) =>
    desired(project('demo', [svc('web', { ports, environment: { VERSION: version }, postStart: [hook('warm')], preStop: [hook('flush')] })]), { generation: Number(version) });
  const execs: string[] = [];
  let failWarm = false;
  engine.setExecHandler((c, command) => {
    execs.push(`${c.spec.name} ${command.at(-1)}`);
    return { exitCode: failWarm && command.at(-1) === 'warm' ? 1 : 0, output: '' };
  });
  const pass = async (d: DesiredProject) => {
    const observed = await observe(engine, 'demo', ['web']);
    await execute(plan(d, observed, { now: engine.now(), supervisor: EMPTY_VIEW }), engine, () => {});
  };
  await pass(web('1'));
  execs.length = 0;
  await pass(web('2'));
  assert.deepEqual(execs, ['demo-web-1-next warm', 'demo-web-1 flush'], 'new replica warmed, then the old one flushed before it stops');
  execs.length = 0;
  failWarm = true;
  await assert.rejects(pass(web('3')), (e: CmeshError) => e.code === 'CMESH_E_ROLLOUT_FAILED' && /failed its post_start/.test(e.message));
  assert.deepEqual(execs, ['demo-web-1-next warm'], 'the serving replica is never stopped');
  assert.equal(engine.container('demo-web-1')?.state, 'running');
  assert.equal(engine.container('demo-web-1-next'), undefined, 'the failed new container is removed');
});
