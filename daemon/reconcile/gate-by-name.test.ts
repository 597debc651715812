// depends_on on a meshed service: the gate also waits until the gateway answers for its name (execute's nameReady),
// side by side with the engine's word; gates on services the gateway does not answer for never ask.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { DesiredProject } from '../api/desired.ts';
import { FakeEngine } from '../engine/fake-engine.ts';
import { execute, type NameReady } from './execute.ts';
import { ProjectReconciler } from './loop.ts';
import { observe } from './observe.ts';
import { plan } from './plan.ts';
import type { GatewayContext, Plan } from './plan-types.ts';
import { EMPTY_VIEW } from './supervisor.ts';
import { dep, desired, project, svc } from './testing.ts';

const MESH = svc('defaults').mesh;
const HTTP = { ...MESH, protocol: 'http' as const, protocolExplicit: true };
// The fake engine checks a bind mount's source, as the real one does.
const socketDir = mkdtempSync(join(tmpdir(), 'cmesh-gw-'));
after(() => rmSync(socketDir, { recursive: true, force: true }));
const gw: GatewayContext = { image: 'cmesh/gateway:0123456789ab', socketDir };

/** web calls api by name (meshed, port 3000); app needs job, which has no port and keeps plain Docker DNS. */
const project1 = desired(
  project(
    'byname',
    [
      svc('api', { expose: [3000], mesh: HTTP }),
      svc('web', { expose: [3000], mesh: HTTP, dependsOn: { api: dep('service_started') } }),
      svc('job'),
      svc('app', { dependsOn: { job: dep('service_started') } }),
    ],
    { eastWest: true },
  ),
);

async function planFor(engine: FakeEngine, d: DesiredProject, gateway?: GatewayContext): Promise<Plan> {
  const observed = await observe(engine, d.project.name, Object.keys(d.project.services));
  return plan(d, observed, { now: engine.now(), supervisor: EMPTY_VIEW, ...(gateway ? { gateway } : {}) });
}

const names = async (engine: FakeEngine): Promise<string[]> =>
  (await engine.listContainers({ labels: { 'dev.cmesh.project': 'byname' }, all: true })).map((c) => c.name).sort();

test("a dependent of a meshed service starts only once the gateway answers for it; the unmeshed branch doesn't wait", async () => {
  const engine = new FakeEngine();
  const p = await planFor(engine, project1, gw);
  const asked: string[][] = [];
  let answer!: () => void;
  const answered = new Promise<void>((resolve) => {
    answer = resolve;
  });
  const nameReady: NameReady = async (services) => {
    asked.push(services);
    await answered;
  };
  const run = execute(p, engine, () => undefined, { nameReady, pollMs: 10 });
  // Everything but web comes up while the gateway has not answered yet.
  const deadline = Date.now() + 3000;
  while (!(await names(engine)).includes('byname-app-1') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(await names(engine), ['byname-api-1', 'byname-app-1', 'byname-cmesh-gateway', 'byname-job-1']);
  assert.deepEqual(asked, [['api']]);
  answer();
  await run;
  assert.ok((await names(engine)).includes('byname-web-1'));
});

test('without a gateway (image not to be had) no gate asks for one', async () => {
  const engine = new FakeEngine();
  const p = await planFor(engine, project1);
  let asked = 0;
  await execute(p, engine, () => undefined, { nameReady: async () => void asked++, pollMs: 10 });
  assert.equal(asked, 0);
  assert.deepEqual(await names(engine), ['byname-api-1', 'byname-app-1', 'byname-job-1', 'byname-web-1']);
});

test('a gateway that never answers fails the gate with its error and starts nothing behind it', async () => {
  const engine = new FakeEngine();
  const p = await planFor(engine, project1, gw);
  const nameReady: NameReady = async () => {
    throw Object.assign(new Error('no listener answers for api yet'), { code: 'CMESH_E_TIMEOUT' });
  };
  await assert.rejects(execute(p, engine, () => undefined, { nameReady, pollMs: 10 }), /no listener answers for api/);
  assert.ok(!(await names(engine)).includes('byname-web-1'));
});

test('up --wait: ready only once the gateway answers as well; a gateway that never does fails the wait', async () => {
  const engine = new FakeEngine();
  const abort = new AbortController();
  let answered = false;
  const asked: string[][] = [];
  const nameReady: NameReady = async (services, { timeoutMs, signal }) => {
    asked.push(services);
    const deadline = Date.now() + timeoutMs;
    while (!answered) {
      signal?.throwIfAborted();
      if (Date.now() > deadline) throw new Error('no listener answers for api yet');
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const d = desired(project('byname', [svc('api', { expose: [3000], mesh: HTTP })], { eastWest: true }));
  const loop = new ProjectReconciler({ engine, name: 'byname', getDesired: () => d, emit: () => undefined, signal: abort.signal, nameReady, execute: { pollMs: 5 } });
  try {
    await loop.reconcileNow();
    await assert.rejects(loop.waitReady({ services: [], timeoutMs: 150, settleMs: 0 }), /no listener answers for api/);
    assert.deepEqual(asked, [['api']]);
    let ready = false;
    const waiting = loop.waitReady({ services: [], timeoutMs: 3000, settleMs: 0 }).then(() => (ready = true));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(ready, false, 'the engine says ready; the gateway has not answered yet');
    answered = true;
    await waiting;
  } finally {
    abort.abort();
  }
});
