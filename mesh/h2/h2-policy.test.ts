// The listener's traffic policy applies to HTTP/2 streams as to HTTP/1.1 requests: routes pick the target service,
// strip_prefix and header edits reach the replica, response edits the client; redirects and 429s are answered by
// the proxy, re-framed for HTTP/2, and the access log names the route.

import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { test } from 'node:test';
import type { TrafficPolicy } from '../../daemon/api/traffic-policy.ts';
import { ListenerPolicy } from '../policy/listener-policy.ts';
import { ProjectPolicyState } from '../policy/project-state.ts';
import type { AccessLogEntry } from '../proxy/access-log.ts';
import { type TestUpstream, TestPool, startProxy, startUpstream, testMesh } from '../proxy/testing.ts';
import { call } from './testing.ts';

const POLICY: TrafficPolicy = {
  routes: [
    {
      match: { pathPrefix: '/admin/' },
      stripPrefix: '/admin',
      requestHeaders: { set: { 'x-env': 'prod' }, remove: [] },
      responseHeaders: { set: { 'x-route': 'admin' }, remove: ['x-upstream'] },
      to: [{ service: 'admin', weight: 1 }],
    },
    { match: { path: '/old' }, to: [], redirect: { to: 'https://example.test$path', status: 301 } },
    { match: { pathPrefix: '/limited/' }, to: [{ service: 'front', weight: 1 }], rateLimit: { requestsPerSecond: 0.01, burst: 1, key: 'ip' } },
    { match: { pathPrefix: '/' }, to: [{ service: 'front', weight: 1 }] },
  ],
};

test('routes, edits, redirects and rate limits apply to HTTP/2 streams', async (t) => {
  const ups: Record<string, TestUpstream> = {};
  const pools: Record<string, TestPool> = {};
  for (const name of ['front', 'admin']) {
    ups[name] = await startUpstream(name, (req, res) => {
      req.resume();
      res.setHeader('x-upstream', name);
      res.end(JSON.stringify({ name, url: req.url, env: req.headers['x-env'] ?? null }));
    });
    pools[name] = new TestPool(name, [ups[name]!.upstream]);
  }
  t.after(() => Promise.all(Object.values(ups).map((u) => u.close())));
  const state = new ProjectPolicyState();
  state.update({ front: { policy: POLICY }, admin: {} });
  const policy = new ListenerPolicy(
    { service: 'front', listenerPort: 80, state, resolve: (r) => (pools[r.service] ? { service: r.service, pool: pools[r.service]!, mesh: testMesh() } : undefined) },
    POLICY,
  );
  const log: AccessLogEntry[] = [];
  const p = await startProxy(pools.front!, testMesh(), { policy, onRequest: (e) => log.push(e) });
  t.after(() => p.close());
  const session = http2.connect(p.url);
  t.after(() => session.close());

  const admin = await call(session, '/admin/users?a=1');
  assert.deepEqual(JSON.parse(admin.body), { name: 'admin', url: '/users?a=1', env: 'prod' });
  assert.equal(admin.headers['x-route'], 'admin');
  assert.equal(admin.headers['x-upstream'], undefined);
  const front = await call(session, '/x');
  assert.equal(JSON.parse(front.body).name, 'front');
  const moved = await call(session, '/old');
  assert.deepEqual([moved.status, moved.headers.location], [301, 'https://example.test/old']);
  const limited = [await call(session, '/limited/a'), await call(session, '/limited/a')];
  assert.deepEqual(limited.map((a) => a.status), [200, 429]);
  assert.equal(limited[1]!.headers['x-cmesh-error'], 'rate-limited');
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(log.map((e) => [e.path, e.status, e.target ?? e.service, e.route?.split(' ')[0]]), [
    ['/admin/users?a=1', 200, 'admin', '#0'],
    ['/x', 200, 'front', '#3'],
    ['/old', 301, 'front', '#1'],
    ['/limited/a', 200, 'front', '#2'],
    ['/limited/a', 429, 'front', '#2'],
  ]);
});

test('retry.per_try_timeout with on: [timeout] moves a slow stream to the next replica', async (t) => {
  const slow = await startUpstream('web#1', (req, res) => {
    req.resume();
    setTimeout(() => res.end('slow'), 1000).unref();
  });
  const good = await startUpstream('web#2', (req, res) => {
    req.resume();
    res.end('good');
  });
  t.after(() => Promise.all([slow.close(), good.close()]));
  const retry = { on: ['timeout' as const], statuses: [], attempts: 1, perTryTimeoutMs: 150 };
  // The slow replica first, always: the first try must be the one that times out.
  const pool = new TestPool('web', [slow.upstream, good.upstream]);
  pool.pick = (ctx) => pool.upstreams.find((u) => !ctx?.exclude?.has(u.id)) ?? pool.upstreams[0];
  const mesh = testMesh({ retries: 1, policy: { retry } });
  const state = new ProjectPolicyState();
  state.update({ web: { policy: { retry } } });
  const policy = new ListenerPolicy({ service: 'web', listenerPort: 80, state, resolve: () => ({ service: 'web', pool, mesh }) }, mesh.policy);
  const p = await startProxy(pool, mesh, { policy });
  t.after(() => p.close());
  const session = http2.connect(p.url);
  t.after(() => session.close());
  // A reference 25 ms timer over the same span: on a loaded host every timer (the proxy's per-try one too) fires
  // late, so the wait is judged in the reference's ticks, not in wall-clock ms. 150 ms is ~6 ticks.
  let ticks = 0;
  const reference = setInterval(() => ticks++, 25);
  const a = await call(session, '/x').finally(() => clearInterval(reference));
  assert.deepEqual([a.status, a.body], [200, 'good']);
  assert.ok(ticks < 20, `moved on within ~3x the per-try timeout, not at the slow replica's 1 s: a 25 ms timer ticked ${ticks} times`);
});
