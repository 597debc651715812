// MeshRuntime.linkChanged: a replica reached at its own address whose network link goes away (`docker network
// disconnect` by hand) leaves rotation at once, and after the connect it takes traffic only once it rose again.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { ContainerInfo } from './api/engine.ts';
import { Labels } from './api/labels.ts';
import { MeshRuntime } from './mesh-wiring.ts';
import { ctr, desired, project, svc } from './reconcile/testing.ts';

const mesh = new MeshRuntime({ emit: () => {} });
after(() => mesh.close());

/** A replica reached at `ip` on `network` (what the adapter reports for a direct replica: daemon/engine/container-info.ts). */
function direct(c: ContainerInfo, network: string, ip: string | undefined): ContainerInfo {
  const endpoints = ip === undefined ? [] : [{ containerPort: 3000, protocol: 'tcp' as const, host: ip, hostPort: 3000, direct: true as const }];
  return { ...c, labels: { ...c.labels, [Labels.reachNetwork]: network, [Labels.reachPorts]: '3000/tcp' }, endpoints };
}

test('a disconnect from its reach network takes the replica out at once and names its project; others are ignored', async () => {
  const d = desired(project('linkgone', [svc('web', { replicas: 2, ports: [{ target: 3000, protocol: 'tcp' }] })]));
  await mesh.publish(d);
  try {
    const [a, b] = [direct(ctr(d, 'web', 1), 'linkgone_default', '172.30.0.2'), direct(ctr(d, 'web', 2), 'linkgone_default', '172.30.0.3')];
    mesh.observed(d, [a, b]);
    const pool = mesh.registry.pool('linkgone', 'web');
    for (const id of ['web#1', 'web#2']) pool.setActiveHealth(id, true, 'test');
    const routable = () => mesh.services('linkgone')[0]!.replicas.filter((r) => r.routable).map((r) => r.replica);
    assert.deepEqual(routable(), [1, 2]);

    assert.equal(mesh.linkChanged('someone-else', 'linkgone_default', false), undefined, 'a container the mesh does not reach');
    assert.equal(mesh.linkChanged(a.id, 'other-net', false), 'linkgone', 'a network it is not reached on: its loop looks again');
    assert.deepEqual(routable(), [1, 2]);

    assert.equal(mesh.linkChanged(a.id, 'linkgone_default', false), 'linkgone');
    assert.deepEqual(routable(), [2], 'out at once, not at the next observe');
    const r1 = mesh.services('linkgone')[0]!.replicas.find((r) => r.replica === 1)!;
    assert.deepEqual([r1.state, r1.endpoints, r1.health.active], ['running', [], 'unknown']);
    // Docker reports a disconnect by hand twice: the second changes nothing.
    assert.equal(mesh.linkChanged(a.id, 'linkgone_default', false), 'linkgone');
    assert.deepEqual(routable(), [2]);

    // A list that still shows the old address does not bring it back before its health rose again.
    mesh.observed(d, [a, b]);
    assert.deepEqual(routable(), [2]);
    // The connect names the project (its loop looks again); the address it comes back with must pass probes first.
    assert.equal(mesh.linkChanged(a.id, 'linkgone_default', true), 'linkgone');
    mesh.observed(d, [direct(ctr(d, 'web', 1), 'linkgone_default', '172.30.0.9'), b]);
    assert.deepEqual(routable(), [2]);
    pool.setActiveHealth('web#1', true, 'rose again');
    assert.deepEqual(routable(), [1, 2]);
    assert.equal(mesh.services('linkgone')[0]!.replicas.find((r) => r.replica === 1)!.endpoints[0]!.host, '172.30.0.9');
  } finally {
    await mesh.unpublish('linkgone');
  }
  assert.equal(mesh.linkChanged('c-web-1', 'linkgone_default', false), undefined, 'forgotten after down');
});

test('a replica reached through a published port is not judged by its links (its endpoints stay); its loop looks again', async () => {
  const d = desired(project('linkpub', [svc('web', { ports: [{ target: 3000, protocol: 'tcp' }] })]));
  await mesh.publish(d);
  try {
    const c = ctr(d, 'web', 1, { endpoints: [{ containerPort: 3000, protocol: 'tcp', host: '127.0.0.1', hostPort: 40100 }] });
    mesh.observed(d, [c]);
    assert.equal(mesh.linkChanged(c.id, 'linkpub_default', false), 'linkpub');
    assert.equal(mesh.services('linkpub')[0]!.replicas[0]!.endpoints.length, 1);
  } finally {
    await mesh.unpublish('linkpub');
  }
});

test('runPaused: out at once; a stale "running" list keeps it paused until the unpause, then it rises again', async () => {
  const d = desired(project('linkpause', [svc('web', { replicas: 2, ports: [{ target: 3000, protocol: 'tcp' }] })]));
  await mesh.publish(d);
  try {
    const [a, b] = [direct(ctr(d, 'web', 1), 'linkpause_default', '172.31.0.2'), direct(ctr(d, 'web', 2), 'linkpause_default', '172.31.0.3')];
    mesh.observed(d, [a, b]);
    const pool = mesh.registry.pool('linkpause', 'web');
    for (const id of ['web#1', 'web#2']) pool.setActiveHealth(id, true, 'test');
    const routable = () => mesh.services('linkpause')[0]!.replicas.filter((r) => r.routable).map((r) => r.replica);
    const state = () => mesh.services('linkpause')[0]!.replicas.find((r) => r.replica === 1)!.state;
    mesh.runPaused('linkpause', a.id, true);
    assert.deepEqual(routable(), [2]);
    assert.equal(state(), 'paused');
    // Docker 20.10 lists it running a moment longer, and a TCP probe passes against a paused replica (its kernel
    // accepts): neither may bring it back while it is paused.
    mesh.observed(d, [a, b]);
    assert.equal(state(), 'paused');
    assert.deepEqual(routable(), [2]);
    assert.deepEqual(pool.probeTargets().map((t) => t.id), ['web#2'], 'not probed while paused');
    // Unpaused: the list is believed again, and it rises before it takes traffic.
    mesh.runPaused('linkpause', a.id, false);
    mesh.observed(d, [a, b]);
    assert.equal(state(), 'running');
    assert.deepEqual(routable(), [2]);
    pool.setActiveHealth('web#1', true, 'rose again');
    assert.deepEqual(routable(), [1, 2]);
  } finally {
    await mesh.unpublish('linkpause');
  }
});
