// MeshRuntime without an engine: the service table follows observations, stops drain, a taken port fails publish.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import type { DaemonEvent } from './api/events.ts';
import { isCmeshError } from './api/errors.ts';
import { MeshRuntime } from './mesh-wiring.ts';
import { ctr, desired, project, svc } from './reconcile/testing.ts';

const events: DaemonEvent[] = [];
const mesh = new MeshRuntime({ emit: (e) => events.push(e) });
after(() => mesh.close());

const ep = (hostPort: number) => [{ containerPort: 3000, protocol: 'tcp' as const, host: '127.0.0.1', hostPort }];

test('observations upsert running replicas and drop vanished ones', async () => {
  const d = desired(project('obs', [svc('web', { replicas: 2, ports: [{ target: 3000, protocol: 'tcp' }] })]));
  await mesh.publish(d);
  mesh.observed(d, [ctr(d, 'web', 1, { endpoints: ep(40001) }), ctr(d, 'web', 2, { endpoints: ep(40002) })]);
  let [row] = mesh.services('obs');
  assert.deepEqual(row?.replicas.map((r) => [r.replica, r.endpoint?.port]), [[1, 40001], [2, 40002]]);
  assert.equal(row?.desired, 2);
  mesh.observed(d, [ctr(d, 'web', 1, { endpoints: ep(40001) })]);
  [row] = mesh.services('obs');
  assert.deepEqual(row?.replicas.map((r) => r.replica), [1]);
  await mesh.unpublish('obs');
  assert.deepEqual(mesh.services('obs'), []);
});

test('beforeStop drains the tracked container, afterStop makes it rise again; other containers are left alone', async () => {
  const d = desired(project('drain', [svc('web', { ports: [{ target: 3000, protocol: 'tcp' }] })]));
  await mesh.publish(d);
  const c = ctr(d, 'web', 1, { endpoints: ep(40003) });
  mesh.observed(d, [c]);
  const ref = { id: c.id, name: c.name, service: 'web', replica: 1 };
  await mesh.beforeStop('drain', { ...ref, id: 'someone-else' }, 1000);
  assert.equal(mesh.services('drain')[0]?.replicas[0]?.draining, false);
  await mesh.beforeStop('drain', ref, 1000);
  assert.equal(mesh.services('drain')[0]?.replicas[0]?.draining, true);
  mesh.afterStop('drain', ref, false);
  const r = mesh.services('drain')[0]?.replicas[0];
  assert.deepEqual([r?.draining, r?.state, r?.routable], [false, 'exited', false]);
  mesh.afterStop('drain', ref, true);
  assert.deepEqual(mesh.services('drain')[0]?.replicas, []);
  await mesh.unpublish('drain');
});

test('runEnded (the engine said die) takes the replica out at once; a stale "running" list does not bring it back', async () => {
  const d = desired(project('died', [svc('web', { replicas: 2, ports: [{ target: 3000, protocol: 'tcp' }] })]));
  await mesh.publish(d);
  const [a, b] = [ctr(d, 'web', 1, { endpoints: ep(40011) }), ctr(d, 'web', 2, { endpoints: ep(40012) })];
  mesh.observed(d, [a, b]);
  const pool = mesh.registry.pool('died', 'web');
  for (const id of ['web#1', 'web#2']) pool.setActiveHealth(id, true, 'test');
  const routable = () => mesh.services('died')[0]!.replicas.filter((r) => r.routable).map((r) => r.replica);
  assert.deepEqual(routable(), [1, 2]);
  mesh.runEnded('died', 'someone-else');
  mesh.runEnded('other-project', a.id);
  assert.deepEqual(routable(), [1, 2], 'only its own project\'s container');
  mesh.runEnded('died', a.id);
  assert.deepEqual(routable(), [2]);
  assert.equal(mesh.services('died')[0]!.replicas[0]!.state, 'exited');
  // Docker 20.10 may still list it as running just after `die`: it must earn its health again first.
  mesh.observed(d, [a, b]);
  assert.deepEqual(routable(), [2]);
  await mesh.unpublish('died');
});

test('publish binds the published port and fails with CMESH_E_PORT_TAKEN, leaving nothing bound, when it is taken', async () => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const taken = (holder.address() as net.AddressInfo).port;
  try {
    const d = desired(
      project('taken', [
        svc('a', { ports: [{ target: 3000, published: 0, hostIp: '127.0.0.1', protocol: 'tcp' }] }),
        svc('b', { ports: [{ target: 3000, published: taken, hostIp: '127.0.0.1', protocol: 'tcp' }] }),
      ]),
    );
    await assert.rejects(mesh.publish(d), (err) => isCmeshError(err) && err.code === 'CMESH_E_PORT_TAKEN' && err.message.includes(`127.0.0.1:${taken}`));
    assert.deepEqual(mesh.ports.bindings('taken'), []);
    assert.ok(events.some((e) => e.type === 'proxy' && e.action === 'listening' && e.project === 'taken'));
    assert.ok(events.some((e) => e.type === 'proxy' && e.action === 'closed' && e.project === 'taken'));
  } finally {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
  }
});
