// observe() and a project's east-west gateway: inspected (for its aliases, which the list lacks) only when the list
// shows it changed (another container, state or network set) or its last inspection is a minute old; otherwise a pass
// reuses the last inspection. Counted as inspect calls on the fake engine.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerCreateSpec } from '../api/engine.ts';
import { Labels, projectLabels } from '../api/labels.ts';
import { FakeEngine } from '../engine/fake-engine.ts';
import { observe } from './observe.ts';

function gatewaySpec(project: string, networks: ContainerCreateSpec['networks']): ContainerCreateSpec {
  const labels = { ...projectLabels(project), [Labels.role]: 'gateway' };
  return { name: `${project}-gateway`, image: 'cmesh/gateway:1', env: {}, labels, ports: [], mounts: [], networks, init: true };
}

async function setUp(project: string): Promise<{ engine: FakeEngine; id: string; inspects: () => number }> {
  const engine = new FakeEngine();
  for (const n of ['default', 'back']) await engine.createNetwork({ name: `${project}_${n}`, labels: projectLabels(project) });
  const { id } = await engine.createContainer(gatewaySpec(project, [{ name: `${project}_default`, aliases: ['api', 'db'] }]));
  await engine.startContainer(id);
  return { engine, id, inspects: () => engine.callsOf('inspectContainer').length };
}

// Names and aliases: an address (running containers only) is the engine's, not what this file is about.
const networksOf = async (engine: FakeEngine, project: string) =>
  (await observe(engine, project, [])).gateway?.map((g) => [g.state, g.networks?.map(({ address: _, ...n }) => n)]);

test('an unchanged gateway is inspected once over many passes; a joined network, a stop or a new container is seen at once', async () => {
  const { engine, id, inspects } = await setUp('p');
  const first = await networksOf(engine, 'p');
  assert.deepEqual(first, [['running', [{ name: 'p_default', aliases: ['api', 'db'] }]]]);
  for (let i = 0; i < 5; i++) assert.deepEqual(await networksOf(engine, 'p'), first);
  assert.equal(inspects(), 1, 'six passes of an unchanged gateway, one inspect');

  await engine.connectNetwork(id, 'p_back', ['api.back']);
  assert.deepEqual(await networksOf(engine, 'p'), [['running', [{ name: 'p_back', aliases: ['api.back'] }, { name: 'p_default', aliases: ['api', 'db'] }]]]);
  await networksOf(engine, 'p');
  assert.equal(inspects(), 2, 'a network joined: inspected again, once');

  await engine.stopContainer(id);
  assert.equal((await networksOf(engine, 'p'))?.[0]?.[0], 'exited');
  assert.equal(inspects(), 3, 'a state change: inspected again');

  await engine.removeContainer(id, { force: true });
  assert.deepEqual(await networksOf(engine, 'p'), []);
  const next = await engine.createContainer(gatewaySpec('p', [{ name: 'p_default', aliases: ['api', 'db', 'worker'] }]));
  await engine.startContainer(next.id);
  assert.deepEqual(await networksOf(engine, 'p'), [['running', [{ name: 'p_default', aliases: ['api', 'db', 'worker'] }]]]);
  assert.equal(inspects(), 4, 'a new container (new names on a network): inspected');
});

test("one project's inspections are not another's, and a minute-old inspection is made again", async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_700_000_000_000 });
  const { engine, inspects } = await setUp('p');
  await networksOf(engine, 'p');
  const other = await setUp('q');
  await networksOf(other.engine, 'q');
  assert.equal(other.inspects(), 1, 'another engine and project: its own inspect');
  t.mock.timers.tick(59_000);
  await networksOf(engine, 'p');
  assert.equal(inspects(), 1);
  t.mock.timers.tick(2_000);
  await networksOf(engine, 'p');
  assert.equal(inspects(), 2, 'older than a minute: inspected again');
});
