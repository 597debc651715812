// A machine's first meshed `up`: the pass plans with the gateway image's tag at once and starts the replicas while the
// image builds; only the gateway's create waits for the build, and a failed build fails that create with its error.
// Through the daemon's real EastWestRuntime and ProjectReconciler, on the fake engine with a build held back by the test.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gatewayName } from './api/east-west.ts';
import type { BuildOptions, BuildProgress } from './api/engine.ts';
import { isCmeshError } from './api/errors.ts';
import type { DaemonEvent } from './api/events.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { gatewayTestHome } from './gateway-test-kit.ts';
import { EastWestRuntime } from './gateway-wiring.ts';
import { ProjectReconciler } from './reconcile/loop.ts';
import { desired, project, svc } from './reconcile/testing.ts';

const BASE = 'cmesh-test/gateway-base:1';
const dir = gatewayTestHome('cm-gwfirst-', BASE);

const HTTP = { ...svc('defaults').mesh, protocol: 'http' as const, protocolExplicit: true };

/** An engine without the gateway image whose build goes on only when the test says; `order` logs creates and builds. */
function slowBuildEngine(outcome: 'ok' | 'fail') {
  const engine = new FakeEngine({ strictImages: true });
  engine.addImage(BASE);
  engine.addImage('example/api:1');
  engine.addImage('example/job:1');
  if (outcome === 'fail') engine.setBuildScript({ fail: 'COPY failed: no space left on device' });
  const order: string[] = [];
  let finish!: () => void;
  const held = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const build = engine.buildImage.bind(engine);
  engine.buildImage = async function* (o: BuildOptions): AsyncIterable<BuildProgress> {
    order.push('build started');
    await held;
    try {
      for await (const p of build(o)) {
        if (p.kind === 'done') order.push('image built');
        yield p;
      }
    } catch (err) {
      order.push('build failed');
      throw err;
    }
  };
  const create = engine.createContainer.bind(engine);
  engine.createContainer = (spec) => {
    order.push(`create ${spec.name}`);
    return create(spec);
  };
  return { engine, order, finish };
}

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** api (meshed, ×2) and job (no port, not meshed): a first `up` of both through the daemon's own wiring. */
function firstUp(engine: FakeEngine, name: string) {
  const d = desired(project(name, [svc('api', { expose: [3000], mesh: HTTP, replicas: 2 }), svc('job')], { eastWest: true }));
  const events: DaemonEvent[] = [];
  const emit = (e: DaemonEvent) => void events.push(e);
  const ew = new EastWestRuntime({ home: dir.home, engine, rows: () => [], emit, publishMs: 1000 });
  const abort = new AbortController();
  const loop = new ProjectReconciler({
    engine,
    name,
    getDesired: () => d,
    emit,
    signal: abort.signal,
    gatewayContext: (desiredNow) => ew.context(desiredNow),
    execute: { pollMs: 5 },
  });
  const close = async () => {
    abort.abort();
    await ew.close();
  };
  return { loop, events, close };
}

test('the replicas start while the gateway image builds; the gateway is created once it is built', async (t) => {
  const { engine, order, finish } = slowBuildEngine('ok');
  const up = firstUp(engine, 'gwfirst');
  t.after(up.close);
  const pass = up.loop.reconcileNow();
  // On the old path the pass planned nothing until the image existed: no replica before the build ended.
  await until('the replicas created while the build is held', () => order.includes('create gwfirst-api-2') && order.includes('create gwfirst-job-1'));
  assert.ok(order.includes('build started'), order.join(', '));
  assert.ok(!order.includes('image built'), order.join(', '));
  assert.ok(!order.includes(`create ${gatewayName('gwfirst')}`), 'the gateway waits for its image');
  assert.equal(engine.container('gwfirst-api-1')?.state, 'running');
  finish();
  const result = await pass;
  const at = (step: string) => order.indexOf(step);
  assert.ok(at('image built') > at('create gwfirst-api-1'), order.join(', '));
  assert.ok(at(`create ${gatewayName('gwfirst')}`) > at('image built'), order.join(', '));
  assert.equal(engine.container(gatewayName('gwfirst'))?.state, 'running');
  assert.equal(result.done, result.actions);
});

test("a failed build fails the gateway's create with the build's error, reported once; the replicas are up", async (t) => {
  const { engine, order, finish } = slowBuildEngine('fail');
  const up = firstUp(engine, 'gwfail');
  t.after(up.close);
  const pass = up.loop.reconcileNow();
  await until('the replicas created while the build is held', () => order.includes('create gwfail-api-2'));
  finish();
  await assert.rejects(pass, (err: unknown) => isCmeshError(err) && err.code === 'CMESH_E_BUILD_FAILED' && /no space left on device/.test(err.message));
  assert.ok(!order.includes(`create ${gatewayName('gwfail')}`), order.join(', '));
  assert.equal(engine.container('gwfail-api-2')?.state, 'running');
  const reported = up.events.filter((e) => e.type === 'error' && e.project === 'gwfail');
  assert.equal(reported.length, 1, JSON.stringify(reported));
});

test('a gateway to recreate for a new image waits for the build before the old one goes; a failed build keeps it', async (t) => {
  const { engine, finish } = slowBuildEngine('ok');
  finish();
  const first = firstUp(engine, 'gwswap');
  await first.loop.reconcileNow();
  await first.close();
  const old = engine.container(gatewayName('gwswap'));
  assert.equal(old?.state, 'running');
  // A new base image id gives a new tag (as a new node binary would): the next daemon recreates the gateway.
  const base2 = 'cmesh-test/gateway-base:2';
  engine.addImage(base2);
  process.env['CMESH_GATEWAY_BASE_IMAGE'] = base2;
  t.after(() => {
    process.env['CMESH_GATEWAY_BASE_IMAGE'] = BASE;
  });
  engine.setBuildScript({ fail: 'COPY failed: no space left on device' });
  engine.clearCalls();
  const second = firstUp(engine, 'gwswap');
  t.after(second.close);
  await assert.rejects(second.loop.reconcileNow(), /no space left on device/);
  assert.equal(engine.callsOf('buildImage').length, 1);
  assert.deepEqual(engine.callsOf('removeContainer'), [], 'the old gateway is not removed for an image that never came');
  assert.equal(engine.container(gatewayName('gwswap'))?.id, old?.id);
  assert.equal(engine.container(gatewayName('gwswap'))?.state, 'running');
});
