// execute() on the fake engine: stage order and gates, adoption on 409, exits during start, error aggregation.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DesiredProject } from '../api/desired.ts';
import { CmeshError } from '../api/errors.ts';
import type { DaemonEvent } from '../api/events.ts';
import { FakeEngine } from '../engine/fake-engine.ts';
import { createSpec } from './container-spec.ts';
import { execute } from './execute.ts';
import { specHash } from './hash.ts';
import { observe } from './observe.ts';
import { plan } from './plan.ts';
import { EMPTY_VIEW } from './supervisor.ts';
import { dep, desired, project, svc } from './testing.ts';

async function planFor(engine: FakeEngine, d: DesiredProject) {
  const observed = await observe(engine, d.project.name, Object.keys(d.project.services));
  return plan(d, observed, { now: engine.now(), supervisor: EMPTY_VIEW });
}

const web = desired(project('demo', [svc('web', { replicas: 2 })]));

test('fresh up creates the network and starts every replica, emitting container events', async () => {
  const engine = new FakeEngine();
  const events: DaemonEvent[] = [];
  const result = await execute(await planFor(engine, web), engine, (e) => events.push(e));
  assert.equal(result.done, 3);
  const running = await engine.listContainers({ labels: { 'dev.cmesh.project': 'demo' } });
  assert.deepEqual(running.map((c) => [c.name, c.state]).sort(), [['demo-web-1', 'running'], ['demo-web-2', 'running']]);
  const actions = events.filter((e) => e.type === 'container').map((e) => `${e.action} ${e.name}`);
  assert.deepEqual(actions.sort(), ['created demo-web-1', 'created demo-web-2', 'started demo-web-1', 'started demo-web-2']);
  assert.equal((await planFor(engine, web)).stages.length, 0, 'second plan is a no-op');
});

test('409 on create adopts our own container instead of duplicating it', async () => {
  const engine = new FakeEngine();
  const p = await planFor(engine, web);
  // A previous pass created replica 1 and crashed before it could start it.
  const spec = web.project.services['web']!;
  await engine.createNetwork({ name: 'demo_default', labels: {} });
  const { id } = await engine.createContainer(createSpec(web.project, spec, 1, specHash(web.project, spec)));
  const events: DaemonEvent[] = [];
  // Without the setup stage: the rest of the plan no longer follows it.
  await execute({ ...p, stages: p.stages.slice(1).map(({ after: _after, ...stage }) => stage) }, engine, (e) => events.push(e));
  assert.equal(engine.containerCount, 2);
  assert.equal(engine.container(id)?.state, 'running');
  assert.ok(events.some((e) => e.type === 'container' && e.action === 'adopted' && e.container === id));
});

test('409 on create with a stranger holding the name fails with CMESH_E_NAME_CONFLICT', async () => {
  const engine = new FakeEngine();
  const p = await planFor(engine, web);
  engine.addForeignContainer('demo-web-1');
  await assert.rejects(execute(p, engine, () => {}), (e: CmeshError) => {
    assert.equal(e.code, 'CMESH_E_NAME_CONFLICT');
    assert.match(e.hint ?? '', /docker rm -f demo-web-1/);
    return true;
  });
  // The sibling replica in the same stage was still brought up.
  assert.equal(engine.container('demo-web-2')?.state, 'running');
});

test('a container that exits during start fails with its last log lines', async () => {
  const engine = new FakeEngine();
  const start = engine.startContainer.bind(engine);
  engine.startContainer = async (id: string) => {
    await start(id);
    engine.emitLog(id, 'listening on :8080');
    engine.emitLog(id, 'panic: config missing', 'stderr');
    engine.simulateExit(id, 3);
  };
  const one = desired(project('demo', [svc('web')]));
  await assert.rejects(execute(await planFor(engine, one), engine, () => {}), (e: CmeshError) => {
    assert.equal(e.code, 'CMESH_E_CONTAINER_EXITED');
    assert.equal(e.details['exitCode'], 3);
    assert.deepEqual(e.details['logs'], ['listening on :8080', 'panic: config missing']);
    return true;
  });
});

test('stages wait for service_healthy before starting dependents', async () => {
  const engine = new FakeEngine();
  const d = desired(
    project('demo', [
      svc('db', { healthcheck: { test: ['CMD', 'true'], disable: false } }),
      svc('api', { dependsOn: { db: dep('service_healthy') } }),
    ]),
  );
  const order: string[] = [];
  const heal = setInterval(() => {
    const db = engine.container('demo-db-1');
    if (db?.state === 'running' && db.health !== 'healthy') {
      order.push('db healthy');
      engine.setHealth(db.id, 'healthy');
    }
  }, 5);
  try {
    await execute(await planFor(engine, d), engine, (e) => {
      if (e.type === 'container' && e.action === 'created') order.push(`created ${e.service}`);
    }, { pollMs: 5, gateTimeoutMs: 2_000 });
  } finally {
    clearInterval(heal);
  }
  assert.deepEqual(order, ['created db', 'db healthy', 'created api']);
});

test('a gate that never opens times out with CMESH_E_TIMEOUT and starts nothing behind it', async () => {
  const engine = new FakeEngine();
  const d = desired(
    project('demo', [svc('db', { healthcheck: { test: ['CMD', 'true'], disable: false } }), svc('api', { dependsOn: { db: dep('service_healthy') } })]),
  );
  await assert.rejects(execute(await planFor(engine, d), engine, () => {}, { pollMs: 5, gateTimeoutMs: 50 }), /CMESH_E_TIMEOUT|timed out/);
  assert.equal(engine.container('demo-api-1'), undefined);
});

test('engine errors in a stage are collected; the first is thrown with the others in details', async () => {
  const engine = new FakeEngine();
  const p = await planFor(engine, web);
  const boom = new CmeshError('CMESH_E_IMAGE_MISSING', 'no such image');
  engine.failNext('createContainer', boom, 2);
  await assert.rejects(execute(p, engine, () => {}), (e: CmeshError) => {
    assert.equal(e.code, 'CMESH_E_IMAGE_MISSING');
    assert.deepEqual(e.details['otherErrors'], ['CMESH_E_IMAGE_MISSING: no such image']);
    return true;
  });
});
