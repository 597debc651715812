// The compiled route table: first match wins, splits by weight, actions and limits per route, counters kept on edit;
// a rebuild keeps nothing of the old table alive, and an unchanged policy is not rebuilt.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { TrafficPolicy } from '../../daemon/api/traffic-policy.ts';
import { TestPool, testMesh } from '../proxy/testing.ts';
import { ListenerPolicy } from './listener-policy.ts';
import { ProjectPolicyState } from './project-state.ts';
import { RateLimiter } from './rate-limit.ts';
import { splitTarget } from './route-match.ts';
import { RouteTable, targetName } from './route-table.ts';

const POLICY: TrafficPolicy = {
  routes: [
    { match: { pathPrefix: '/admin/', headers: { 'x-canary': { exact: '1' } } }, to: [{ service: 'admin-canary', weight: 100 }] },
    { match: { pathPrefix: '/admin/' }, stripPrefix: '/admin', to: [{ service: 'admin', weight: 90 }, { service: 'admin-canary', port: 9000, weight: 10 }], rateLimit: { requestsPerSecond: 1, burst: 1, key: 'route' } },
    { match: { path: '/old' }, to: [], redirect: { to: '/new', status: 301 } },
    { match: {}, to: [{ service: 'front', weight: 1 }] },
  ],
};

const req = (target: string, headers: string[] = []) => ({ method: 'GET', ...splitTarget(target), rawHeaders: headers });

test('first match wins; the header route beats the broader path route', () => {
  const t = new RouteTable(POLICY);
  assert.equal(t.select(req('/admin/x', ['X-Canary', '1']))?.index, 0);
  assert.equal(t.select(req('/admin/x'))?.index, 1);
  assert.equal(t.select(req('/old'))?.index, 2);
  assert.equal(t.select(req('/'))?.index, 3);
  assert.equal(new RouteTable({ routes: [{ match: { path: '/a' }, to: [{ service: 'a', weight: 1 }] }] }).select(req('/b')), undefined);
});

test('the split route sends 90/10 and strips its prefix; a redirect route has no target', () => {
  const t = new RouteTable(POLICY);
  const r = t.routes[1]!;
  const seen: Record<string, number> = {};
  for (let i = 0; i < 2000; i++) {
    const name = targetName(r.pick()!);
    seen[name] = (seen[name] ?? 0) + 1;
  }
  assert.deepEqual(seen, { admin: 1800, 'admin-canary:9000': 200 });
  assert.equal(r.rewrite?.('/admin/users'), '/users');
  assert.equal(t.routes[2]!.pick(), undefined);
});

test('a route limit is its own; other routes share the service limiter', () => {
  const shared = new RateLimiter({ requestsPerSecond: 5, burst: 5, key: 'ip' });
  const t = new RouteTable(POLICY, { limiter: shared });
  assert.notEqual(t.routes[1]!.limiter, shared);
  assert.equal(t.routes[1]!.limiter?.spec.key, 'route');
  assert.equal(t.routes[0]!.limiter, shared);
  assert.equal(t.routes[3]!.limiter, shared);
});

test('counters survive a rebuild with edited weights, not a changed match', () => {
  const a = new RouteTable(POLICY);
  a.routes[1]!.counters.requests = 7;
  const edited: TrafficPolicy = { routes: POLICY.routes!.map((r, i) => (i === 1 ? { ...r, to: [{ service: 'admin', weight: 1 }] } : r)) };
  const b = new RouteTable(edited, {}, a);
  assert.equal(b.routes[1]!.counters.requests, 7);
  assert.equal(b.routes[1]!.label, 'path_prefix=/admin/');
  assert.equal(b.routes[0]!.label, 'path_prefix=/admin/ headers.x-canary=1');
  const moved = new RouteTable({ routes: [POLICY.routes![3]!] }, {}, a);
  assert.equal(moved.routes[0]!.counters.requests, 0);
});

const gc = ((): (() => void) => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

test('a rebuilt table does not keep the one before it alive (every resync rebuilt one: an unbounded chain)', async () => {
  let current = new RouteTable(POLICY);
  const first = new WeakRef(current);
  for (let i = 0; i < 5; i++) current = new RouteTable(POLICY, {}, current);
  // WeakRefs hold their target until the end of the job that made or read them.
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  assert.equal(first.deref(), undefined, 'the first table is still reachable from the last one');
  assert.equal(targetName(current.routes[1]!.pick()!), 'admin');
});

test('updating a listener policy with an unchanged spec keeps its table, splits and route buckets', () => {
  const state = new ProjectPolicyState();
  const pool = new TestPool('api', []);
  const policy = new ListenerPolicy({ service: 'front', listenerPort: 80, state, resolve: (t) => ({ service: t.service, pool, mesh: testMesh() }) }, POLICY);
  const table = policy.table;
  // The route limit (1 rps, burst 1) takes its one token.
  assert.equal(policy.decide('GET', '/admin/a', [], '10.0.0.1')?.kind, 'forward');
  policy.update(POLICY);
  policy.update(structuredClone(POLICY));
  assert.equal(policy.table, table);
  assert.equal(policy.decide('GET', '/admin/a', [], '10.0.0.1')?.kind, 'answer', 'the bucket was refilled by an update that changed nothing');
  policy.update({ routes: POLICY.routes!.slice(1) });
  assert.notEqual(policy.table, table);
});
