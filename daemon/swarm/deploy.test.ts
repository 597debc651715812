// swarmUp / swarmDown against the fake swarm and the fake engine: conflicts, missing images, immutable secrets.

import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DesiredProject } from '../api/desired.ts';
import { CmeshError } from '../api/errors.ts';
import type { ProjectSpec } from '../api/project.ts';
import { FakeEngine } from '../engine/fake-engine.ts';
import { FakeSwarm } from '../engine/fake-swarm.ts';
import { project, svc } from '../reconcile/testing.ts';
import { swarmDown, swarmUp } from './deploy.ts';
import type { SwarmWarning } from './translate.ts';

const desired = (p: ProjectSpec): DesiredProject => ({ version: 1, generation: 1, project: p, scale: {}, stopped: [], selected: [], target: 'swarm', updatedAt: 0 });
const isCode = (code: string) => (err: unknown) => err instanceof CmeshError && err.code === code;

function setup() {
  const engine = new FakeEngine({ strictImages: true });
  const id = engine.addImage('example/web:1').id;
  const swarm = new FakeSwarm({ images: [id] });
  const warnings: SwarmWarning[] = [];
  return { engine, swarm, ctx: { swarm, engine, warn: (w: SwarmWarning) => warnings.push(w) }, warnings };
}

test('an overlay of that name owned by another project is a name conflict, never adopted', async () => {
  const { swarm, ctx } = setup();
  await swarm.createNetwork({ name: 'shop_default', labels: { 'dev.cmesh.project': 'other' }, attachable: true });
  await assert.rejects(swarmUp(ctx, desired(project('shop', [svc('web')])), ['web']), isCode('CMESH_E_NAME_CONFLICT'));
  assert.deepEqual(await swarm.listServices({}), []);
});

test('an image the engine does not have fails before any service exists, naming the service and the image', async () => {
  const { swarm, ctx } = setup();
  await assert.rejects(swarmUp(ctx, desired(project('shop', [svc('api')])), ['api']), (err: unknown) => {
    assert.ok(err instanceof CmeshError && err.code === 'CMESH_E_IMAGE_MISSING');
    assert.match(err.message, /service api: image "example\/api:1" is not present/);
    return true;
  });
  assert.deepEqual(await swarm.listServices({}), []);
});

test('a changed secret is a new object; the service moves to it and the old one is pruned; down removes everything', async () => {
  const { swarm, ctx, warnings } = setup();
  const withSecret = (value: string) =>
    project('shop', [svc('web', { secrets: [{ source: 'token', target: '/run/secrets/token' }], dependsOn: {} })], {
      secrets: { token: { name: 'token', kind: 'secret', environment: 'TOKEN', content: value } },
    });
  await swarmUp(ctx, desired(withSecret('one')), ['web']);
  const [first] = await swarm.listObjects('secret', {});
  const result = await swarmUp(ctx, desired(withSecret('two')), ['web']);
  assert.deepEqual(result.updated, ['web']);
  const now = await swarm.listObjects('secret', {});
  assert.equal(now.length, 1);
  assert.notEqual(now[0]!.name, first!.name);
  const [web] = await swarm.listServices({});
  assert.equal(web!.spec.TaskTemplate.ContainerSpec.Secrets?.[0]?.SecretID, now[0]!.id);
  assert.deepEqual(warnings, []);
  assert.deepEqual(await swarmDown(swarm, 'shop', undefined, 1000), { services: ['web'], networks: ['shop_default'], secrets: [now[0]!.name], configs: [], volumes: [] });
  assert.deepEqual(await swarmDown(swarm, 'shop', undefined, 1000), { services: [], networks: [], secrets: [], configs: [], volumes: [] });
});

test('a swarm of several nodes is refused before anything is deployed, naming the images other nodes could not get', async () => {
  const engine = new FakeEngine({ strictImages: true });
  const id = engine.addImage('example/web:1').id;
  const swarm = new FakeSwarm({ images: [id], status: { state: 'active', manager: true, nodes: 3 } });
  await assert.rejects(swarmUp({ swarm, engine, warn: () => {} }, desired(project('shop', [svc('web')])), ['web']), (err: unknown) => {
    assert.ok(err instanceof CmeshError && err.code === 'CMESH_E_SWARM_MULTI_NODE');
    assert.equal(err.message, 'this swarm has 3 nodes, and the other nodes could not get these local images: web (example/web:1)');
    return true;
  });
  assert.deepEqual(swarm.calls.map((c) => c.method), ['swarmStatus']);
});

test('a rebuilt image (same tag, new ID) is a start-first rolling update of the service to the new ID', async () => {
  const { engine, swarm, ctx } = setup();
  const web = project('shop', [svc('web', { replicas: 2 })]);
  await swarmUp(ctx, desired(web), ['web']);
  assert.deepEqual((await swarmUp(ctx, desired(web), ['web'])).unchanged, ['web'], 'nothing changed, nothing sent');
  engine.removeImage('example/web:1');
  const rebuilt = engine.addImage('example/web:1', { rebuilt: 'yes' }).id;
  swarm.addImage(rebuilt);
  assert.deepEqual((await swarmUp(ctx, desired(web), ['web'])).updated, ['web']);
  const [svcInfo] = await swarm.listServices({});
  assert.equal(svcInfo!.spec.TaskTemplate.ContainerSpec.Image, rebuilt);
  assert.deepEqual(svcInfo!.spec.UpdateConfig, { Parallelism: 1, Order: 'start-first', FailureAction: 'rollback' });
  const running = (await swarm.listTasks({})).filter((t) => t.desiredState === 'running');
  assert.deepEqual(running.map((t) => t.image), [rebuilt, rebuilt]);
});

test('with a registry, a multi-node swarm is deployed: each image pushed to <registry>/<project>/<service> and named by digest', async () => {
  const engine = new FakeEngine({ strictImages: true });
  const id = engine.addImage('example/web:1').id;
  const swarm = new FakeSwarm({ images: [id], status: { state: 'active', manager: true, nodes: 3 } });
  const p = { ...project('shop', [svc('web')]), registry: '127.0.0.1:5000/team' };
  await swarmUp({ swarm, engine, warn: () => {} }, desired(p), ['web']);
  assert.deepEqual(swarm.pushed, [`127.0.0.1:5000/team/shop/web:${id.slice(7, 19)}`]);
  const [web] = await swarm.listServices({});
  assert.match(web!.spec.TaskTemplate.ContainerSpec.Image, /^127\.0\.0\.1:5000\/team\/shop\/web@sha256:[0-9a-f]{64}$/);
  assert.deepEqual((await swarm.listTasks({})).map((t) => t.state), ['running']);
});

test('volumes: a missing bind source is created on this node; `down -v` removes the project’s volumes, no other', async () => {
  const { engine, swarm, ctx } = setup();
  const dir = await mkdtemp(join(tmpdir(), 'cmesh-swarm-bind-'));
  try {
    const src = join(dir, 'conf');
    const mounts = [
      { type: 'volume' as const, source: 'data', target: '/data', readOnly: false },
      { type: 'bind' as const, source: src, target: '/conf', readOnly: true, createHostPath: true },
    ];
    const p = project('shop', [svc('web', { volumes: mounts })], { volumes: { data: { name: 'data', engineName: 'shop_data', external: false, labels: {} } } });
    await swarmUp(ctx, desired(p), ['web']);
    assert.ok((await stat(src)).isDirectory(), 'the bind source exists');
    const [web] = await swarm.listServices({});
    assert.deepEqual(web!.spec.TaskTemplate.ContainerSpec.Mounts?.map((m) => [m.Type, m.Source, m.Target]), [['volume', 'shop_data', '/data'], ['bind', src, '/conf']]);
    // What Swarm creates on the node at the task's start (the fake swarm runs no containers), and a neighbour's.
    await engine.createVolume({ name: 'shop_data', labels: web!.spec.TaskTemplate.ContainerSpec.Mounts![0]!.VolumeOptions!.Labels! });
    await engine.createVolume({ name: 'other_data', labels: { 'dev.cmesh.managed': 'true', 'dev.cmesh.project': 'other' } });
    assert.deepEqual((await swarmDown(swarm, 'shop', engine, 1000)).volumes, ['shop_data']);
    assert.deepEqual((await engine.listVolumes({})).map((v) => v.name), ['other_data']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
