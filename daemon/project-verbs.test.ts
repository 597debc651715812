// The Compose verbs pause, unpause, kill, port, top and images through the control API: the real daemon (project
// manager, reconcile loop, mesh) on a temp CMESH_HOME, the fake engine underneath, the CLI's DaemonClient as client.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DaemonClient } from '../cli/daemon-client.ts';
import type {
  ContainerImage,
  ContainersResult,
  KillResult,
  PortResult,
  ReplicaProcesses,
  ReplicaStatus,
  ServiceTableRow,
  UpRequest,
} from './api/control.ts';
import { CmeshError } from './api/errors.ts';
import { resolveHome } from './api/home.ts';
import { type RunningDaemon, startDaemon } from './daemon.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { project, svc } from './reconcile/testing.ts';
import { eventually } from '../test/helpers/eventually.ts';

let dir: string;
let engine: FakeEngine;
let daemon: RunningDaemon;
let client: DaemonClient;
let published: number;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const post = <T>(verb: string, body: unknown): Promise<T> => client.request<T>('POST', `/v1/projects/shop/${verb}`, body);
const ps = (): Promise<ReplicaStatus[]> => client.request('GET', '/v1/projects/shop/ps?all=1');
const states = async (service: string): Promise<string[]> => (await ps()).filter((r) => r.service === service).map((r) => r.state);
const ids = async (service: string): Promise<string[]> => (await ps()).filter((r) => r.service === service).map((r) => r.container).sort();

function rejectsCode(p: Promise<unknown>, code: string): Promise<void> {
  return assert.rejects(p, (err: unknown) => err instanceof CmeshError && err.code === code);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-verbs-'));
  engine = new FakeEngine({ now: Date.now });
  daemon = await startDaemon({ home: resolveHome({ CMESH_HOME: dir }), engine, version: 'test', resyncMs: 60_000, reconnect: { initialMs: 20, maxMs: 100 } });
  client = new DaemonClient({ home: daemon.home, env: {}, stderr: { write: () => true }, autoStart: false });
  published = await freePort();
  const shop = project('shop', [
    svc('web', { replicas: 2, command: ['sleep', '300'], ports: [{ target: 80, published, protocol: 'tcp' }, { target: 53, published, protocol: 'udp' }] }),
    svc('db', { expose: [5432], restart: 'always' }),
  ]);
  const body: UpRequest = { project: shop, services: [], build: 'auto', wait: false };
  await client.operation('/v1/projects/shop/up', body, () => {});
});

after(async () => {
  await daemon?.close();
  await rm(dir, { recursive: true, force: true });
});

test('pause freezes the replicas without the supervisor healing them and takes them out of the mesh; unpause thaws', async () => {
  const before = await ids('web');
  const paused = await post<ContainersResult>('pause', { services: ['web'] });
  assert.deepEqual(paused.containers, ['shop-web-1', 'shop-web-2']);
  assert.deepEqual(await states('web'), ['paused', 'paused']);
  // Right away: the verb ran the pass that hands the pause to the mesh before it answered.
  const table = await client.request<ServiceTableRow[]>('GET', '/v1/services?project=shop');
  const web = table.find((s) => s.service === 'web')!;
  assert.deepEqual(web.replicas.map((r) => [r.state, r.routable]), [['paused', false], ['paused', false]]);
  assert.deepEqual(await states('db'), ['running'], 'only the named service');
  const seen = engine.calls.length;
  daemon.manager.wake('shop', 'test: a pass over paused replicas');
  // Past the supervisor's first restart backoff (1 s): a heal would have been deferred, not skipped.
  await new Promise((r) => setTimeout(r, 1300));
  const acted = engine.calls.slice(seen).filter((c) => /^(create|start|stop|remove|kill|unpause)Container$/.test(c.method));
  assert.deepEqual(acted, [], 'the supervisor does not touch a paused replica');
  assert.deepEqual(await ids('web'), before, 'no replacement for a paused replica');
  assert.deepEqual(await states('web'), ['paused', 'paused']);

  assert.deepEqual((await post<ContainersResult>('pause', { services: ['web'] })).containers, [], 'nothing left to pause');
  assert.deepEqual((await post<ContainersResult>('unpause', {})).containers, ['shop-web-1', 'shop-web-2']);
  assert.deepEqual(await states('web'), ['running', 'running']);
  assert.deepEqual(await ids('web'), before);
});

test('top lists each running replica’s processes; images names what each container runs', async () => {
  const top = await post<ReplicaProcesses[]>('top', { services: ['web'] });
  assert.deepEqual(top.map((t) => t.name), ['shop-web-1', 'shop-web-2']);
  for (const t of top) {
    assert.ok(t.titles.includes('PID') && t.titles.includes('CMD'));
    assert.equal(t.processes[0]![t.titles.indexOf('CMD')], 'sleep 300');
  }
  const images = await post<ContainerImage[]>('images', {});
  assert.deepEqual(
    images.map((i) => [i.container, i.service, i.repository, i.tag]),
    [['shop-db-1', 'db', 'example/db', '1'], ['shop-web-1', 'web', 'example/web', '1'], ['shop-web-2', 'web', 'example/web', '1']],
  );
  const webImage = await engine.inspectImage('example/web:1');
  assert.ok(webImage);
  assert.deepEqual(images.filter((i) => i.service === 'web').map((i) => i.id), [webImage.id, webImage.id]);
  await rejectsCode(post('top', { services: ['ghost'] }), 'CMESH_E_SERVICE_NOT_FOUND');
});

test('port answers the mesh address for a published port and the replica’s own for an exposed one', async () => {
  assert.deepEqual(await post<PortResult>('port', { service: 'web', privatePort: 80 }), { host: '127.0.0.1', port: published, via: 'mesh' });
  // The same host port for TCP and UDP: the UDP one is the mesh's forwarder.
  assert.deepEqual(await post<PortResult>('port', { service: 'web', privatePort: 53, protocol: 'udp' }), { host: '127.0.0.1', port: published, via: 'mesh' });
  const db = (await ps()).find((r) => r.service === 'db')!;
  const endpoint = db.endpoints.find((e) => e.containerPort === 5432)!;
  assert.deepEqual(await post<PortResult>('port', { service: 'db', privatePort: 5432 }), { host: endpoint.host, port: endpoint.hostPort, via: 'replica' });
  await rejectsCode(post('port', { service: 'db', privatePort: 5433 }), 'CMESH_E_USAGE');
  await rejectsCode(post('port', { service: 'db', privatePort: 5432, index: 3 }), 'CMESH_E_SERVICE_NOT_FOUND');
  await rejectsCode(post('port', { service: 'ghost', privatePort: 80 }), 'CMESH_E_SERVICE_NOT_FOUND');
  await rejectsCode(post('port', { service: 'db', privatePort: 'x' }), 'CMESH_E_DAEMON_PROTOCOL');
});

test('kill -s SIGHUP only delivers (the supervisor restarts what died); a bad signal is a usage error', async () => {
  await rejectsCode(post('signal', { services: ['db'], signal: 'SIGNOPE' }), 'CMESH_E_USAGE');
  const before = await ps();
  const result = await post<KillResult>('signal', { services: ['db'], signal: 'hup' });
  assert.deepEqual(result, { containers: ['shop-db-1'], signal: 'SIGHUP', stopped: false });
  assert.ok(engine.calls.some((c) => c.method === 'killContainer' && c.args[1] === 'SIGHUP'));
  assert.deepEqual(daemon.manager.desired('shop')?.stopped, []);
  const restarts = before.find((r) => r.service === 'db')!.restarts;
  await eventually(async () => {
    const db = (await ps()).find((r) => r.service === 'db');
    return db?.state === 'running' && db.restarts > restarts;
  }, 'the supervisor to restart db after SIGHUP killed it');
});

test('kill (SIGKILL by default) is a stop: the killed replicas stay down until start', async () => {
  const result = await post<KillResult>('signal', { services: ['web'] });
  assert.deepEqual(result, { containers: ['shop-web-1', 'shop-web-2'], signal: 'SIGKILL', stopped: true });
  assert.deepEqual(daemon.manager.desired('shop')?.stopped, ['web']);
  daemon.manager.wake('shop', 'test: a pass after kill');
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(await states('web'), ['exited', 'exited'], 'not healed');
  assert.deepEqual(await states('db'), ['running']);
  await post('start', { services: ['web'] });
  await eventually(async () => (await states('web')).every((s) => s === 'running'), 'start to bring web back');
});
