// A no-op `up` through the control API (real daemon, fake engine): one container list and nothing else; any change
// — of the file, the scale, the containers — takes the ordinary path.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DaemonClient } from '../cli/daemon-client.ts';
import type { UpRequest } from './api/control.ts';
import type { DesiredProject } from './api/desired.ts';
import { resolveHome } from './api/home.ts';
import type { ProjectSpec } from './api/project.ts';
import { type RunningDaemon, startDaemon } from './daemon.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { assumedResources, gatewaysInPlace, noopEligible, sameDesired } from './noop-up.ts';
import { gatewaySpec } from './reconcile/plan-gateway.ts';
import { ProjectReconciler } from './reconcile/loop.ts';
import { dep, desired, project, svc } from './reconcile/testing.ts';

let dir: string;
let engine: FakeEngine;
let daemon: RunningDaemon;
let client: DaemonClient;

const shop = project('shop', [
  svc('db', { healthcheck: { test: ['CMD', 'true'], disable: false } }),
  svc('web', { replicas: 2, dependsOn: { db: dep('service_healthy') } }),
]);

interface UpAnswer {
  generation: number;
  reconcile: { actions: number };
  replicas: { name: string; state: string }[];
}

const up = (over: Partial<UpRequest> = {}): Promise<UpAnswer> =>
  client.operation('/v1/projects/shop/up', { project: shop, services: [], build: 'auto', wait: false, ...over }, () => {}) as Promise<UpAnswer>;

/**
 * Resolves once the engine has had no call for `quietMs`: the loop's own pass, woken by the events of the previous
 * up (a scale's starts), can still run after that up answered, and on a loaded host it ran into the next measure.
 */
async function engineQuiet(quietMs = 150, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let seen = -1; seen !== engine.calls.length; ) {
    if (Date.now() > deadline) throw new Error(`the engine was never quiet for ${quietMs} ms`);
    seen = engine.calls.length;
    await new Promise((resolve) => setTimeout(resolve, quietMs));
  }
}

/** Engine calls made by `fn`, by method, counted from a quiet engine. */
async function callsDuring(fn: () => Promise<unknown>): Promise<Record<string, number>> {
  await engineQuiet();
  const before = engine.calls.length;
  await fn();
  const out: Record<string, number> = {};
  for (const c of engine.calls.slice(before)) out[c.method] = (out[c.method] ?? 0) + 1;
  return out;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-noop-'));
  engine = new FakeEngine({ now: Date.now });
  daemon = await startDaemon({ home: resolveHome({ CMESH_HOME: dir }), engine, version: 'test', resyncMs: 60_000, reconnect: { initialMs: 20, maxMs: 100 } });
  client = new DaemonClient({ home: daemon.home, env: {}, stderr: { write: () => true }, autoStart: false });
  await up();
});

after(async () => {
  await daemon?.close();
  await rm(dir, { recursive: true, force: true });
});

/** An up, then the same up again: its answer and the engine calls the second one made. */
async function upTwice(run: () => Promise<UpAnswer>): Promise<{ first: UpAnswer; second: UpAnswer; calls: Record<string, number> }> {
  const first = await run();
  let second: UpAnswer | undefined;
  const calls = await callsDuring(async () => {
    second = await run();
  });
  return { first, second: second!, calls };
}

test('an up that changes nothing answers from one container list: no image check, no pass, same generation', async () => {
  const { first, second, calls } = await upTwice(() => up());
  assert.deepEqual(calls, { listContainers: 1 });
  assert.equal(second.generation, first.generation);
  assert.equal(second.reconcile.actions, 0);
  assert.deepEqual(second.replicas.map((r) => `${r.name}:${r.state}`).sort(), ['shop-db-1:running', 'shop-web-1:running', 'shop-web-2:running']);
});

test('a no-op `up --wait` of a ready project is one container list too: the wait judges the no-op’s list', async () => {
  // Every replica healthchecked: ready at the first look (one without a healthcheck settles for a second look).
  const mall = project('mall', [svc('api', { replicas: 2, healthcheck: { test: ['CMD', 'true'], disable: false } })]);
  const upMall = () => client.operation('/v1/projects/mall/up', { project: mall, services: [], build: 'auto', wait: true, timeoutMs: 10_000 }, () => {}) as Promise<UpAnswer>;
  const { first, second, calls } = await upTwice(upMall);
  assert.deepEqual(calls, { listContainers: 1 });
  assert.equal(second.generation, first.generation);
  assert.deepEqual(second.replicas.map((r) => `${r.name}:${r.state}`).sort(), ['mall-api-1:running', 'mall-api-2:running']);
});

test('a no-op `up --wait` of replicas without a healthcheck that ran a while answers at once; one just restarted settles', async () => {
  const plaza = project('plaza', [svc('app', { replicas: 2 })]);
  const upPlaza = () => client.operation('/v1/projects/plaza/up', { project: plaza, services: [], build: 'auto', wait: true, timeoutMs: 10_000 }, () => {}) as Promise<UpAnswer>;
  const timed = async (): Promise<{ ms: number; calls: Record<string, number> }> => {
    const started = performance.now();
    const calls = await callsDuring(upPlaza);
    return { ms: performance.now() - started, calls };
  };
  // The first up's own wait settles 1 s: its replicas have run that long when it answers, and the daemon saw them start.
  await upPlaza();
  const noop = await timed();
  assert.deepEqual(noop.calls, { listContainers: 1 }, 'the no-op’s list proves them ready: no second look after a settle');
  // No upper time bound here: on a loaded host it would flake; the single list above is the proof (a settle looks again).
  // Stopped and started again behind cmesh's back: that run is new, so the wait settles on it again.
  const app1 = (await engine.listContainers({ labels: { 'dev.cmesh.project': 'plaza' } })).find((c) => c.name === 'plaza-app-1')!;
  await engine.stopContainer(app1.id);
  await engine.startContainer(app1.id);
  const restarted = await timed();
  assert.ok(restarted.ms >= 900, `the restarted replica settles (${restarted.ms.toFixed(0)} ms)`);
  assert.ok((restarted.calls['listContainers'] ?? 0) >= 2, `looked again after the settle: ${JSON.stringify(restarted.calls)}`);
});

test('a replica gone behind cmesh’s back, or a changed scale, takes the ordinary path and converges', async () => {
  // Whether the loop (woken by the engine event) or this up's own pass brings it back, the answer shows it running:
  // the one list of a no-op would have shown it missing, so that path cannot have answered.
  engine.simulateRemoval('shop-web-2');
  const healed = await up();
  assert.ok(healed.replicas.some((r) => r.name === 'shop-web-2' && r.state === 'running'));
  const scaled = await up({ scale: { web: 3 } });
  assert.ok(scaled.generation > healed.generation);
  assert.equal(scaled.replicas.filter((r) => r.name.startsWith('shop-web-')).length, 3);
  assert.deepEqual(await callsDuring(() => up({ scale: { web: 3 } })), { listContainers: 1 }, 'and is a no-op again once converged');
});

test('only requests whose images need no look are eligible; equality ignores generation and time only', () => {
  const req = (p: ProjectSpec, build: UpRequest['build'] = 'auto'): UpRequest => ({ project: p, services: [], build, wait: false });
  const plain = project('p', [svc('a')]);
  assert.equal(noopEligible(req(plain), ['a']), true);
  assert.equal(noopEligible(req(plain, 'always'), ['a']), false);
  assert.equal(noopEligible(req(project('p', [svc('a', { build: { context: '.', dockerfile: 'Dockerfile', args: {} } as never })])), ['a']), false);
  assert.equal(noopEligible(req(project('p', [svc('a', { pullPolicy: 'always' })])), ['a']), false);
  assert.equal(noopEligible(req(project('p', [svc('a', { pullPolicy: 'daily' })])), ['a']), false);
  assert.equal(noopEligible(req(project('p', [svc('a', { secrets: [{ source: 's', target: '/run/secrets/s' } as never] })])), ['a']), false);
  // East-west alone does not rule it out: the container list must show every gateway in place (below).
  assert.equal(noopEligible(req(project('p', [svc('a')], { eastWest: true })), ['a']), true);
  const d: DesiredProject = desired(plain);
  assert.equal(sameDesired(d, { ...d, generation: 9, updatedAt: 1 }), true);
  assert.equal(sameDesired(d, { ...d, scale: { a: 2 } }), false);
  assert.equal(sameDesired(d, { ...d, project: project('p', [svc('a', { environment: { X: '1' } })]) }), false);
  // The stored state carries the image's EXPOSE ports up read from the engine (image-expose.ts); a request never does.
  const stored: DesiredProject = desired(project('p', [svc('a', { imageExpose: [8080] })], { eastWest: true }));
  assert.equal(sameDesired(stored, desired(project('p', [svc('a')], { eastWest: true }))), true);
  assert.equal(sameDesired(stored, desired(project('p', [svc('a', { environment: { X: '1' } })], { eastWest: true }))), false);
});

test('noopResult: undefined as soon as the list shows a missing, exited or stale replica', async () => {
  const fake = new FakeEngine({ now: Date.now });
  const d = desired(project('demo', [svc('web', { replicas: 2, restart: 'always' })]));
  const ac = new AbortController();
  const loop = new ProjectReconciler({ engine: fake, name: 'demo', getDesired: () => d, emit: () => {}, signal: ac.signal, resyncMs: 60_000 });
  try {
    await loop.reconcileNow();
    const list = await fake.listContainers({ labels: { 'dev.cmesh.project': 'demo' } });
    const resources = assumedResources(d);
    assert.equal(loop.noopResult(list, resources)?.actions, 0);
    assert.equal(loop.noopResult(list.slice(1), resources), undefined, 'a replica missing');
    assert.equal(loop.noopResult([{ ...list[0]!, state: 'exited', exitCode: 1 }, list[1]!], resources), undefined, 'a replica exited');
    const stale = { ...list[0]!, labels: { ...list[0]!.labels, 'dev.cmesh.spec-hash': 'old' } };
    assert.equal(loop.noopResult([stale, list[1]!], resources), undefined, 'a replica on an older spec');
    assert.equal(loop.noopResult(list, { networks: [], volumes: [] }), undefined, 'without assumed resources a network would be created');
  } finally {
    ac.abort();
  }
});

test('gatewaysInPlace: every placed gateway running and none left over, else the ordinary up', () => {
  const d = desired(project('p', [svc('api', { expose: [3000] }), svc('db', { expose: [3000] })], { eastWest: true }));
  const gw = (index: number, state: 'running' | 'exited' = 'running') => {
    const spec = gatewaySpec(d.project, { image: 'cmesh/gateway:x', socketDir: '/s' }, index)!.spec;
    return { id: `g${index}`, name: spec.name, image: 'x', state, health: 'none' as const, labels: spec.labels, createdAt: 0, restartCount: 0, endpoints: [] };
  };
  // api and db both TCP on 3000: two gateways.
  assert.equal(gatewaysInPlace(d, [gw(0), gw(1)]), true);
  assert.equal(gatewaysInPlace(d, [gw(0)]), false);
  assert.equal(gatewaysInPlace(d, [gw(0), gw(1, 'exited')]), false);
  assert.equal(gatewaysInPlace(desired(project('p', [svc('api', { expose: [3000] })], { eastWest: true })), [gw(0), gw(1)]), false);
  assert.equal(gatewaysInPlace(desired(project('p', [svc('api', { expose: [3000] })])), []), true);
});
