// The swarm target through the control API: the real daemon (project manager, mesh, routes) on a temp CMESH_HOME, the
// fake engine and the fake swarm underneath, the CLI's DaemonClient as client.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DaemonClient } from '../../cli/daemon-client.ts';
import type { ProjectSummary, ReplicaStatus, ServiceTableRow, UpRequest } from '../api/control.ts';
import { CmeshError } from '../api/errors.ts';
import { resolveHome } from '../api/home.ts';
import type { SwarmServiceSpec } from '../api/swarm-engine.ts';
import { type RunningDaemon, startDaemon } from '../daemon.ts';
import { FakeEngine } from '../engine/fake-engine.ts';
import { FakeSwarm } from '../engine/fake-swarm.ts';
import { project, svc } from '../reconcile/testing.ts';
import { eventually } from '../../test/helpers/eventually.ts';

let dir: string;
let engine: FakeEngine;
let swarm: FakeSwarm;
let daemon: RunningDaemon;
let client: DaemonClient;
let imageId: string;

const shop = project('shop', [
  svc('web', { replicas: 3, ports: [{ target: 8080, published: 0, protocol: 'tcp' }] }),
  svc('db', { expose: [5432] }),
]);
// Published port 0 is not valid for the proxy; pick a free one per run below.
const upBody = (over: Partial<UpRequest> = {}): UpRequest => ({ project: shop, services: [], build: 'never', wait: false, ...over });
const up = (over: Partial<UpRequest> = {}) => client.operation('/v1/projects/shop/up', upBody(over), () => {});
const ps = (): Promise<ReplicaStatus[]> => client.request('GET', '/v1/projects/shop/ps?all=1');
const rejectsCode = (p: Promise<unknown>, code: string, message?: RegExp) =>
  assert.rejects(p, (err: unknown) => err instanceof CmeshError && err.code === code && (message === undefined || message.test(err.message)));
const created = (): SwarmServiceSpec[] => swarm.calls.filter((c) => c.method === 'createService').map((c) => c.args[0] as SwarmServiceSpec);

async function start(): Promise<void> {
  daemon = await startDaemon({ home: resolveHome({ CMESH_HOME: dir }), engine, swarm, version: 'test', resyncMs: 60_000, reconnect: { initialMs: 20, maxMs: 100 } });
  client = new DaemonClient({ home: daemon.home, env: {}, stderr: { write: () => true }, autoStart: false });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-swarm-'));
  engine = new FakeEngine({ now: Date.now });
  imageId = engine.addImage('example/web:1').id;
  engine.addImage('example/db:1');
  const port = 20000 + (process.pid % 20000);
  shop.services['web']!.ports[0]!.published = port;
  swarm = new FakeSwarm({ images: [imageId, (await engine.inspectImage('example/db:1'))!.id] });
  await start();
});

after(async () => {
  await daemon?.close();
  await rm(dir, { recursive: true, force: true });
});

test('on a non-manager engine, up --target swarm fails with the init/join hint before anything is saved or created', async () => {
  const lone = new FakeSwarm({ status: { state: 'inactive', manager: false } });
  const d = await startDaemon({ home: resolveHome({ CMESH_HOME: join(dir, 'lone') }), engine: new FakeEngine(), swarm: lone, version: 'test', resyncMs: 60_000 });
  try {
    const c = new DaemonClient({ home: d.home, env: {}, stderr: { write: () => true }, autoStart: false });
    await assert.rejects(c.operation('/v1/projects/shop/up', upBody({ target: 'swarm' }), () => {}), (err: unknown) => {
      assert.ok(err instanceof CmeshError);
      assert.equal(err.code, 'CMESH_E_SWARM_NOT_MANAGER');
      assert.match(err.hint ?? '', /docker swarm init --advertise-addr .*docker swarm join/);
      return true;
    });
    await rejectsCode(c.request('GET', '/v1/projects/shop/ps'), 'CMESH_E_PROJECT_NOT_FOUND');
    assert.deepEqual(lone.calls.map((x) => x.method), ['swarmStatus']);
  } finally {
    await d.close();
  }
});

test('up --target swarm deploys every service by image ID with host-mode task ports; no local container is created', async () => {
  await up({ target: 'swarm' });
  const specs = created();
  assert.deepEqual(specs.map((s) => s.Name).sort(), ['shop_db', 'shop_web']);
  const web = specs.find((s) => s.Name === 'shop_web')!;
  assert.equal(web.TaskTemplate.ContainerSpec.Image, imageId);
  assert.match(imageId, /^sha256:/);
  assert.equal(web.Mode.Replicated.Replicas, 3);
  assert.deepEqual(web.EndpointSpec.Ports, [{ Protocol: 'tcp', TargetPort: 8080, PublishMode: 'host' }]);
  assert.deepEqual(await engine.listContainers({ labels: {}, all: true }), []);
  const rows = await ps();
  assert.deepEqual(rows.filter((r) => r.service === 'web').map((r) => [r.replica, r.state]), [[1, 'running'], [2, 'running'], [3, 'running']]);
  assert.ok(rows.every((r) => r.service !== 'web' || (r.endpoints[0]?.hostPort ?? 0) >= 30000), 'each task has its engine-chosen port');
});

test('ls counts a swarm project’s running tasks', async () => {
  const rows = await client.request<ProjectSummary[]>('GET', '/v1/projects');
  assert.deepEqual(rows.map((r) => [r.name, r.running, r.total]), [['shop', 4, 4]]);
});

test('the mesh pools the tasks’ host ports behind the published port the proxy owns', async () => {
  const table = await client.request<ServiceTableRow[]>('GET', '/v1/services?project=shop');
  const web = table.find((s) => s.service === 'web')!;
  const ports = (await ps()).filter((r) => r.service === 'web').map((r) => r.endpoints[0]!.hostPort);
  assert.deepEqual(web.replicas.map((r) => r.endpoints.find((e) => e.containerPort === 8080)?.hostPort).sort(), ports.sort());
});

test('the daemon remembers the target: a plain up stays on swarm, a different target conflicts', async () => {
  await up();
  assert.equal(created().length, 2, 'an unchanged up creates nothing');
  assert.deepEqual(await engine.listContainers({ labels: {}, all: true }), []);
  await rejectsCode(up({ target: 'local' }), 'CMESH_E_TARGET_CONFLICT', /runs on the swarm target/);
});

test('verbs the swarm target lacks are refused by name, never run locally; pause names Swarm’s reason', async () => {
  await rejectsCode(client.request('POST', '/v1/projects/shop/rm', { services: [], stop: false, dryRun: false, volumes: false }), 'CMESH_E_TARGET_UNSUPPORTED', /`cmesh rm` is not supported yet on the swarm target/);
  await rejectsCode(client.request('POST', '/v1/projects/shop/pause', { services: [] }), 'CMESH_E_TARGET_UNSUPPORTED', /`cmesh pause` is not available on the swarm target.*no paused task state/);
  await rejectsCode(client.request('POST', '/v1/projects/shop/run', {}), 'CMESH_E_TARGET_UNSUPPORTED', /`cmesh run` is not supported yet on the swarm target/);
  assert.deepEqual(await engine.listContainers({ labels: {}, all: true }), []);
});

test('stop scales the service to 0 and keeps its count; start brings the 3 tasks back; port answers the proxy’s address', async () => {
  const running = async () => (await ps()).filter((r) => r.service === 'web' && r.state === 'running').length;
  // A per-call stop timeout would be a spec change (stop_grace_period): refused, and nothing is saved or scaled.
  await rejectsCode(client.request('POST', '/v1/projects/shop/stop', { services: ['web'], timeoutMs: 1000 }), 'CMESH_E_TARGET_UNSUPPORTED', /`cmesh stop -t`.*stop_grace_period/);
  await rejectsCode(client.request('POST', '/v1/projects/shop/restart', { services: ['web'], timeoutMs: 1000 }), 'CMESH_E_TARGET_UNSUPPORTED', /`cmesh restart -t`/);
  assert.equal(await running(), 3);
  const stopped = await client.request<{ replicas: ReplicaStatus[] }>('POST', '/v1/projects/shop/stop', { services: ['web'] });
  assert.equal(await running(), 0);
  assert.deepEqual(stopped.replicas.map((r) => r.service), ['db']);
  const update = swarm.calls.filter((c) => c.method === 'updateService').at(-1)!.args[2] as SwarmServiceSpec;
  assert.deepEqual([update.Name, update.Mode.Replicated.Replicas], ['shop_web', 0]);
  await up({ services: ['db'] });
  assert.equal(await running(), 0, 'an up of another service leaves the stopped one at 0');
  await client.request('POST', '/v1/projects/shop/start', { services: ['web'] });
  assert.equal(await running(), 3);
  const port = await client.request<{ port: number; via: string }>('POST', '/v1/projects/shop/port', { service: 'web', privatePort: 8080, protocol: 'tcp', index: 1 });
  assert.deepEqual([port.port, port.via], [shop.services['web']!.ports[0]!.published, 'mesh']);
});

test('restart bumps ForceUpdate once, even while Swarm writes the service: every task replaced, the new ones returned', async () => {
  const running = async () => (await ps()).filter((r) => r.service === 'web' && r.state === 'running').map((r) => r.container);
  const before = await running();
  swarm.raceUpdates(2); // Swarm's updater still writing the service from the last rolling update (CI, 2026-12-06)
  const result = await client.request<{ replicas: ReplicaStatus[] }>('POST', '/v1/projects/shop/restart', { services: ['web'] });
  const update = swarm.calls.filter((c) => c.method === 'updateService').at(-1)!.args[2] as SwarmServiceSpec;
  assert.equal(update.TaskTemplate.ForceUpdate, 1);
  const after = await running();
  assert.equal(after.length, 3);
  assert.ok(after.every((c) => !before.includes(c)), 'every task replaced');
  assert.deepEqual(result.replicas.filter((r) => r.service === 'web').map((r) => r.container).sort(), after.sort());
  // A later up keeps the counter instead of lowering it (which Swarm would take as one more restart).
  swarm.raceUpdates(1);
  await up({ scale: { web: 2 } });
  const scaled = swarm.calls.filter((c) => c.method === 'updateService').at(-1)!.args[2] as SwarmServiceSpec;
  assert.deepEqual([scaled.Mode.Replicated.Replicas, scaled.TaskTemplate.ForceUpdate], [2, 1]);
});

test('scale updates the service’s replica count; a replaced task joins the pool', async () => {
  await client.request('POST', '/v1/projects/shop/scale', { services: { web: 2 } });
  const update = swarm.calls.filter((c) => c.method === 'updateService').at(-1)!.args[2] as SwarmServiceSpec;
  assert.equal(update.Mode.Replicated.Replicas, 2);
  const web = async () => (await ps()).filter((r) => r.service === 'web' && r.state === 'running');
  assert.equal((await web()).length, 2);
  const pooled = async () =>
    (await client.request<ServiceTableRow[]>('GET', '/v1/services?project=shop'))
      .find((s) => s.service === 'web')!
      .replicas.map((r) => r.container)
      .sort();
  const [victim] = (await swarm.listTasks({ 'dev.cmesh.service': 'web' })).filter((t) => t.desiredState === 'running');
  swarm.failTask(victim!.id);
  const now = (await web()).map((r) => r.container).sort();
  assert.equal(now.length, 2);
  assert.ok(!now.includes(victim!.containerId!), 'the failed task is no longer a running replica');
  await eventually(async () => JSON.stringify(await pooled()) === JSON.stringify(now), 'the replacement task in the pool', 5000, 100);
});

test('a restarted daemon adopts the swarm project: same target, same tasks', async () => {
  await daemon.close();
  await start();
  assert.equal((await ps()).filter((r) => r.service === 'web' && r.state === 'running').length, 2);
  await rejectsCode(up({ target: 'local' }), 'CMESH_E_TARGET_CONFLICT');
});

test('down on an engine that left the swarm fails with the init/join hint and keeps the project known', async () => {
  swarm.setStatus({ state: 'inactive', manager: false });
  try {
    await rejectsCode(client.operation('/v1/projects/shop/down', { volumes: false, removeOrphans: false }, () => {}), 'CMESH_E_SWARM_NOT_MANAGER');
    const rows = await client.request<ProjectSummary[]>('GET', '/v1/projects');
    assert.deepEqual(rows.map((r) => [r.name, r.running]), [['shop', 0]]);
  } finally {
    swarm.setStatus({ state: 'active', manager: true, nodeId: 'fakenode', nodes: 1 });
  }
});

test('down removes the services, networks, secrets and configs; the project is forgotten; a second down finds nothing', async () => {
  const removed = await client.operation('/v1/projects/shop/down', { volumes: false, removeOrphans: false }, () => {});
  assert.deepEqual(removed, { services: ['db', 'web'], networks: ['shop_default'], secrets: [], configs: [], volumes: [] });
  assert.deepEqual(await swarm.listServices({}), []);
  assert.deepEqual(await swarm.listNetworks({}), []);
  await rejectsCode(ps(), 'CMESH_E_PROJECT_NOT_FOUND');
  assert.deepEqual(await client.operation('/v1/projects/shop/down', { volumes: false, removeOrphans: false }, () => {}), { nothingToRemove: true });
});

test('with its desired state lost, down still finds a swarm project by its services’ labels and removes it', async () => {
  await up({ target: 'swarm' });
  await daemon.close();
  await rm(join(dir, 'projects'), { recursive: true, force: true });
  await start();
  await rejectsCode(ps(), 'CMESH_E_PROJECT_NOT_FOUND');
  const removed = await client.operation('/v1/projects/shop/down', { volumes: false, removeOrphans: false }, () => {});
  assert.deepEqual(removed, { services: ['db', 'web'], networks: ['shop_default'], secrets: [], configs: [], volumes: [] });
  assert.deepEqual(await swarm.listServices({}), []);
});
