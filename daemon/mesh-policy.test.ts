// The daemon's published ports with traffic policy: routes reach other services' pools (by container port), an `up`
// with edited weights applies in place on the same listener, `cmesh fault` and `cmesh routes` through MeshPorts.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type TestUpstream, TestPool, freePort, startUpstream } from '../mesh/proxy/testing.ts';
import type { DatagramPool } from '../mesh/udp/forwarder.ts';
import type { ServiceSpec } from './api/project.ts';
import type { TrafficPolicy } from './api/traffic-policy.ts';
import { MeshPorts } from './mesh-ports.ts';
import { project, svc } from './reconcile/testing.ts';

const ups: TestUpstream[] = [];
const pools = new Map<string, TestPool>();
const asked: string[] = [];
const datagrams: DatagramPool = { service: 'x', pick: () => undefined, current: () => undefined, onResult() {} };
let mesh: MeshPorts;
let port: number;

before(async () => {
  for (const [name, target] of [['front', 8000], ['admin', 8000], ['canary', 9000]] as const) {
    const u = await startUpstream(name, (req, res) => {
      req.resume();
      // `?hold` keeps the request in flight for a while (the breaker test needs one that is).
      setTimeout(() => res.end(`${name} ${req.url}`), req.url?.includes('hold') ? 300 : 0);
    });
    ups.push(u);
    pools.set(`${name}:${target}`, new TestPool(name, [u.upstream]));
  }
  mesh = new MeshPorts({
    poolFor: (_project, service, target) => {
      asked.push(`${service}:${target}`);
      const p = pools.get(`${service}:${target}`);
      assert.ok(p, `no pool ${service}:${target}`);
      return p;
    },
    datagramPoolFor: () => datagrams,
    emit() {},
    log() {},
  });
  port = await freePort();
});

after(async () => {
  await mesh.close();
  for (const u of ups) await u.close();
});

const spec = (policy: TrafficPolicy) => {
  const front: ServiceSpec = svc('front', { ports: [{ target: 8000, published: port, hostIp: '127.0.0.1', protocol: 'tcp' }] });
  front.mesh = { ...front.mesh, policy };
  return project('pol', [front, svc('admin', { expose: [8000] }), svc('canary', { expose: [8000, 9000] })]);
};

const split = (admin: number, canary: number): TrafficPolicy => ({
  routes: [
    { match: { pathPrefix: '/admin/' }, stripPrefix: '/admin', to: [{ service: 'admin', weight: admin }, { service: 'canary', port: 9000, weight: canary }] },
    { match: {}, to: [{ service: 'front', weight: 1 }] },
  ],
});

async function tally(n: number, path: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const text = await (await fetch(`http://127.0.0.1:${port}${path}`)).text();
    out[text] = (out[text] ?? 0) + 1;
  }
  return out;
}

test('routes pick other services by container port; edited weights apply in place on the same listener', async () => {
  await mesh.sync(spec(split(3, 1)), { rollback: true });
  const [before] = mesh.bindings('pol');
  assert.deepEqual(await tally(40, '/admin/a'), { 'admin /a': 30, 'canary /a': 10 });
  assert.deepEqual(await tally(2, '/x'), { 'front /x': 2 });
  assert.ok(asked.includes('canary:9000') && asked.includes('admin:8000'));

  await mesh.sync(spec(split(1, 1)), { rollback: true });
  const [after] = mesh.bindings('pol');
  assert.equal(after?.port, before?.port);
  assert.deepEqual(await tally(40, '/admin/a'), { 'admin /a': 20, 'canary /a': 20 });

  const view = mesh.routes('pol');
  assert.equal(view.ports.length, 1);
  assert.deepEqual(view.ports[0]?.routes[0], {
    index: 0,
    match: 'path_prefix=/admin/',
    to: [
      { target: 'admin', weight: 1, requests: 50 },
      { target: 'canary:9000', weight: 1, requests: 30 },
    ],
    requests: 80,
    rateLimited: 0,
  });
});

test('cmesh fault: set, listed, cleared; an unknown service is a clear error', async () => {
  await mesh.sync(spec(split(1, 0)), { rollback: true });
  const set = mesh.setFaults('pol', 'admin', { abort: { percent: 100, status: 502 } });
  assert.deepEqual(set, { service: 'admin', faults: { abort: { percent: 100, status: 502 } }, source: 'runtime' });
  const res = await fetch(`http://127.0.0.1:${port}/admin/a`);
  assert.equal(res.status, 502);
  assert.equal(res.headers.get('x-cmesh-error'), 'fault-injected');
  await res.arrayBuffer();
  assert.equal((await fetch(`http://127.0.0.1:${port}/front`)).status, 200, 'faults of admin do not touch front');
  assert.deepEqual(mesh.routes('pol').faults, [set]);
  // What the east-west gateways get in their table: the run-time faults only (the file's travel in the policy).
  assert.deepEqual(mesh.runtimeFaults('pol'), { admin: { abort: { percent: 100, status: 502 } } });
  assert.deepEqual(mesh.routes('pol').breakers, [], 'no circuit_breaker configured and nothing refused');
  assert.deepEqual(mesh.setFaults('pol', 'admin', undefined), { service: 'admin', source: 'none' });
  assert.deepEqual(mesh.runtimeFaults('pol'), {});
  assert.equal((await fetch(`http://127.0.0.1:${port}/admin/a`)).status, 200);
  assert.throws(() => mesh.setFaults('pol', 'ghost', undefined), { code: 'CMESH_E_SERVICE_NOT_FOUND' });
});

test('a configured breaker is listed, and refuses past max_requests with overflow counted', async () => {
  await mesh.sync(spec({ ...split(1, 0), circuitBreaker: { maxRequests: 1 } }), { rollback: true });
  // Upstream connections the earlier tests left open (idle, kept alive) to front are counted by its breaker.
  const open = mesh.routes('pol').breakers[0]?.connections ?? -1;
  assert.ok(open >= 0);
  assert.deepEqual(mesh.routes('pol').breakers, [{ service: 'front', limits: { maxRequests: 1 }, requests: 0, pending: 0, connections: open, overflow: { requests: 0, pending: 0, connections: 0 } }]);
  // A held request to front takes the only slot; the next one is refused at once.
  const held = fetch(`http://127.0.0.1:${port}/front?hold`);
  await new Promise((r) => setTimeout(r, 100));
  const t0 = performance.now();
  const refused = await fetch(`http://127.0.0.1:${port}/front`);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('x-cmesh-error'), 'overflow');
  await refused.arrayBuffer();
  assert.ok(performance.now() - t0 < 200, 'answered without waiting for the held request');
  assert.equal((await held).status, 200);
  // The held request reused an idle connection or opened one, which stays open (kept alive) and counted.
  assert.deepEqual(mesh.routes('pol').breakers, [{ service: 'front', limits: { maxRequests: 1 }, requests: 0, pending: 0, connections: Math.max(open, 1), overflow: { requests: 1, pending: 0, connections: 0 } }]);
  assert.deepEqual(mesh.breakerStats().find((b) => b.project === 'pol')?.breakers.map((b) => b.service), ['front']);
});

test('a service limit is one bucket per key for all its published ports in this process (shared, not divided)', async () => {
  const second = await freePort();
  const other = await freePort();
  const front = svc('front', {
    ports: [
      { target: 8000, published: other, hostIp: '127.0.0.1', protocol: 'tcp' },
      { target: 8000, published: second, hostIp: '127.0.0.1', protocol: 'tcp' },
    ],
  });
  front.mesh = { ...front.mesh, policy: { rateLimit: { requestsPerSecond: 0.01, burst: 4, key: 'ip' } } };
  await mesh.sync(project('shared', [front]), { rollback: true });
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) {
    const res = await fetch(`http://127.0.0.1:${i % 2 === 0 ? other : second}/`);
    statuses.push(res.status);
    await res.arrayBuffer();
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429, 429, 429]);
  await mesh.close('shared');
});
