// Independent branches of depends_on: plan() orders each service's stage after its dependencies' only, and execute()
// runs such stages side by side (fake engine), bounded by one action limit for the whole plan.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DesiredProject } from '../api/desired.ts';
import { CmeshError } from '../api/errors.ts';
import { FakeEngine } from '../engine/fake-engine.ts';
import { execute } from './execute.ts';
import { observe } from './observe.ts';
import { plan } from './plan.ts';
import type { Plan, WaitGate } from './plan-types.ts';
import { EMPTY_VIEW } from './supervisor.ts';
import { dep, desired, project, svc } from './testing.ts';
import { sleep } from './wait.ts';

async function planFor(engine: FakeEngine, d: DesiredProject): Promise<Plan> {
  const observed = await observe(engine, d.project.name, Object.keys(d.project.services));
  return plan(d, observed, { now: engine.now(), supervisor: EMPTY_VIEW });
}

/** Two branches: db ← api and cache ← worker, each edge service_healthy. */
const branches = desired(
  project('two', [
    svc('db'),
    svc('api', { dependsOn: { db: dep('service_healthy') } }),
    svc('cache'),
    svc('worker', { dependsOn: { cache: dep('service_healthy') } }),
  ]),
);

const stageAfter = (p: Plan, name: string): string[] => {
  const stage = p.stages.find((s) => s.name === name);
  assert.ok(stage, `no stage ${name}`);
  return (stage.after ?? []).map((i) => p.stages[i]!.name);
};

test('each service stage follows the setup and its own dependencies, not a whole dependency level', async () => {
  const p = await planFor(new FakeEngine(), branches);
  assert.deepEqual(
    p.stages.map((s) => s.name),
    ['setup', 'cache', 'db', 'api', 'worker'],
  );
  assert.deepEqual(stageAfter(p, 'cache'), ['setup']);
  assert.deepEqual(stageAfter(p, 'db'), ['setup']);
  assert.deepEqual(stageAfter(p, 'api'), ['setup', 'db']);
  assert.deepEqual(stageAfter(p, 'worker'), ['setup', 'cache']);
  assert.deepEqual(
    p.stages.find((s) => s.name === 'worker')!.waits.map((w) => w.service),
    ['cache'],
  );
});

test('a dependency with nothing to do passes its own predecessors on', async () => {
  // top ← mid ← base; mid already runs with the current spec, base is missing: top still follows base's stage.
  const chain = desired(project('chain', [svc('base'), svc('mid', { dependsOn: { base: dep() } }), svc('top', { dependsOn: { mid: dep() } })]));
  const engine = new FakeEngine();
  const first = await planFor(engine, chain);
  await execute(first, engine, () => undefined, { waitFor: async () => undefined });
  const base = (await engine.listContainers({ labels: { 'dev.cmesh.service': 'base' } }))[0]!;
  const top = (await engine.listContainers({ labels: { 'dev.cmesh.service': 'top' } }))[0]!;
  await engine.removeContainer(base.id, { force: true });
  await engine.removeContainer(top.id, { force: true });
  const p = await planFor(engine, chain);
  assert.deepEqual(
    p.stages.map((s) => s.name),
    ['base', 'top'],
  );
  assert.deepEqual(stageAfter(p, 'top'), ['base']);
});

test('a branch starts while another branch still waits at its gate', async () => {
  const engine = new FakeEngine();
  const p = await planFor(engine, branches);
  let releaseDb!: () => void;
  const dbHealthy = new Promise<void>((resolve) => (releaseDb = resolve));
  const gates: string[] = [];
  const waitFor = async (gate: WaitGate): Promise<void> => {
    gates.push(gate.service);
    if (gate.service === 'db') await dbHealthy;
  };
  const started: string[] = [];
  engine.setStartHandler((c) => started.push(c.name));
  const run = execute(p, engine, () => undefined, { waitFor });
  // Long enough for the worker branch to pass its gate and start; api must still be held at db's gate.
  for (let i = 0; i < 50 && !started.includes('two-worker-1'); i++) await sleep(2);
  assert.ok(started.includes('two-worker-1'), `worker started while db's gate is closed: ${started.join(', ')}`);
  assert.ok(!started.includes('two-api-1'), 'api waits for its gate');
  releaseDb();
  const result = await run;
  assert.equal(result.done, 5);
  assert.deepEqual(started.sort(), ['two-api-1', 'two-cache-1', 'two-db-1', 'two-worker-1']);
  assert.deepEqual(gates.sort(), ['cache', 'db']);
});

test('a failed stage starts no dependent and no new stage; a branch already running finishes', async () => {
  const engine = new FakeEngine();
  const p = await planFor(engine, branches);
  let releaseCache!: () => void;
  const cacheHealthy = new Promise<void>((resolve) => (releaseCache = resolve));
  const waitFor = async (gate: WaitGate): Promise<void> => {
    if (gate.service === 'db') throw new CmeshError('CMESH_E_UNHEALTHY', 'dependency db is unhealthy (two-db-1)');
    await cacheHealthy;
    await sleep(5);
  };
  const run = execute(p, engine, () => undefined, { waitFor });
  await sleep(10);
  releaseCache();
  await assert.rejects(run, (e: CmeshError) => e.code === 'CMESH_E_UNHEALTHY');
  const names = (await engine.listContainers({ labels: { 'dev.cmesh.project': 'two' } })).map((c) => c.name).sort();
  // worker was already at its gate when db's failed: it ends its stage; api never gets a container.
  assert.deepEqual(names, ['two-cache-1', 'two-db-1', 'two-worker-1']);
});

/** Slows every start by `ms` and reports the most starts that were in flight at once. */
function countStarts(engine: FakeEngine, ms: number): () => number {
  let inFlight = 0;
  let most = 0;
  const start = engine.startContainer.bind(engine);
  engine.startContainer = async (id) => {
    most = Math.max(most, ++inFlight);
    await sleep(ms);
    inFlight--;
    return start(id);
  };
  return () => most;
}

test('the action limit holds across concurrent stages', async () => {
  const wide = desired(project('wide', ['a', 'b', 'c'].map((name) => svc(name, { replicas: 3 }))));
  const engine = new FakeEngine();
  const p = await planFor(engine, wide);
  const most = countStarts(engine, 3);
  const result = await execute(p, engine, () => undefined, { concurrency: 2 });
  assert.equal(result.done, 10, 'the network and 9 replicas');
  assert.equal(most(), 2);
});

test('the stages of independent services run at once', async () => {
  const wide = desired(project('wide', ['a', 'b', 'c'].map((name) => svc(name))));
  const engine = new FakeEngine();
  const p = await planFor(engine, wide);
  const most = countStarts(engine, 5);
  await execute(p, engine, () => undefined);
  assert.equal(most(), 3, 'a, b and c start concurrently');
});
