// The policy on the real proxy path (loopback upstreams): routes pick pools, splits, strip_prefix and header edits
// reach the replica, redirects, 404 without a route, 429 + Retry-After, injected faults, overflow, in-place updates.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TrafficPolicy } from '../../daemon/api/traffic-policy.ts';
import type { AccessLogEntry } from '../proxy/access-log.ts';
import { type RunningProxy, type TestUpstream, TestPool, startProxy, startUpstream, testMesh } from '../proxy/testing.ts';
import { ListenerPolicy } from './listener-policy.ts';
import { ProjectPolicyState } from './project-state.ts';

const POLICY: TrafficPolicy = {
  routes: [
    { match: { pathPrefix: '/admin/', headers: { 'x-canary': { exact: '1' } } }, to: [{ service: 'canary', weight: 1 }] },
    {
      match: { pathPrefix: '/admin/' },
      stripPrefix: '/admin',
      requestHeaders: { set: { 'x-env': 'prod' }, remove: ['x-debug'] },
      responseHeaders: { set: { 'x-route': 'admin' }, remove: ['x-upstream'] },
      to: [
        { service: 'admin', weight: 90 },
        { service: 'canary', weight: 10 },
      ],
    },
    { match: { path: '/old' }, to: [], redirect: { to: 'https://example.test$path', status: 301 } },
    { match: { pathPrefix: '/limited/' }, to: [{ service: 'front', weight: 1 }], rateLimit: { requestsPerSecond: 0.01, burst: 3, key: 'ip' } },
    { match: { pathPrefix: '/' }, to: [{ service: 'front', weight: 1 }] },
  ],
};

describe('traffic policy on the HTTP proxy', () => {
  const ups: Record<string, TestUpstream> = {};
  const pools: Record<string, TestPool> = {};
  const state = new ProjectPolicyState();
  const log: AccessLogEntry[] = [];
  let policy: ListenerPolicy;
  let proxy: RunningProxy;

  before(async () => {
    for (const name of ['front', 'admin', 'canary']) {
      ups[name] = await startUpstream(name, (req, res) => {
        req.resume();
        res.setHeader('x-upstream', name);
        res.end(JSON.stringify({ name, url: req.url, env: req.headers['x-env'] ?? null, debug: req.headers['x-debug'] ?? null }));
      });
      pools[name] = new TestPool(name, [ups[name]!.upstream]);
    }
    state.update({ front: { policy: POLICY }, admin: {}, canary: {} });
    policy = new ListenerPolicy(
      { service: 'front', listenerPort: 80, state, resolve: (t) => (pools[t.service] ? { service: t.service, pool: pools[t.service]!, mesh: testMesh() } : undefined) },
      POLICY,
    );
    proxy = await startProxy(pools['front']!, testMesh(), { policy, onRequest: (e) => log.push(e) });
  });

  after(async () => {
    await proxy.close();
    for (const u of Object.values(ups)) await u.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${proxy.url}${path}`, { headers, redirect: 'manual' });

  it('a header route and a path route pick their services; strip_prefix and header edits reach the replica', async () => {
    const canary = await (await get('/admin/users', { 'x-canary': '1' })).json();
    assert.deepEqual(canary, { name: 'canary', url: '/admin/users', env: null, debug: null });
    const counts: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      const res = await get('/admin/users?x=1', { 'x-debug': 'yes' });
      assert.equal(res.headers.get('x-route'), 'admin');
      assert.equal(res.headers.get('x-upstream'), null);
      const body = (await res.json()) as { name: string; url: string; env: string; debug: null };
      assert.equal(body.url, '/users?x=1');
      assert.equal(body.env, 'prod');
      assert.equal(body.debug, null);
      counts[body.name] = (counts[body.name] ?? 0) + 1;
    }
    assert.deepEqual(counts, { admin: 180, canary: 20 });
    assert.equal((await (await get('/')).json() as { name: string }).name, 'front');
    const table = policy.table!;
    assert.deepEqual(table.routes[1]!.counters.byTarget, { admin: 180, canary: 20 });
    const entry = log.find((e) => e.path === '/admin/users' && e.target === 'canary');
    assert.equal(entry?.route, '#0 path_prefix=/admin/ headers.x-canary=1');
  });

  it('a redirect route answers itself', async () => {
    const res = await get('/old?q=1');
    assert.equal(res.status, 301);
    assert.equal(res.headers.get('location'), 'https://example.test/old?q=1');
  });

  it('the route rate limit answers 429 with Retry-After past the burst', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await get('/limited/x');
      statuses.push(res.status);
      if (res.status === 429) {
        assert.equal(res.headers.get('x-cmesh-error'), 'rate-limited');
        assert.ok(Number(res.headers.get('retry-after')) >= 1);
      }
      await res.arrayBuffer();
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  });

  it('faults set at run time abort at once, and clearing them stops them at once', async () => {
    state.setRuntimeFaults('front', { abort: { percent: 100, status: 503 } });
    const res = await get('/');
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('x-cmesh-error'), 'fault-injected');
    await res.arrayBuffer();
    state.setRuntimeFaults('front', undefined);
    assert.equal((await get('/')).status, 200);
  });

  it('an injected delay holds the request for its duration', async () => {
    state.setRuntimeFaults('front', { delay: { percent: 100, durationMs: 150 } });
    const t0 = performance.now();
    const res = await get('/');
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.ok(performance.now() - t0 >= 140, `took ${performance.now() - t0}ms`);
    state.setRuntimeFaults('front', undefined);
  });

  it('the breaker answers 503 overflow at once when max_requests is reached', async () => {
    state.update({ front: { policy: { ...POLICY, circuitBreaker: { maxRequests: 1 } } }, admin: {}, canary: {} });
    const b = state.breaker('front');
    assert.equal(b.admit(), 'ok', 'hold the only slot');
    const res = await get('/');
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('x-cmesh-error'), 'overflow');
    await res.arrayBuffer();
    b.done(true);
    assert.equal((await get('/')).status, 200);
    assert.deepEqual({ requests: b.stats().requests, pending: b.stats().pending }, { requests: 0, pending: 0 });
    state.update({ front: { policy: POLICY }, admin: {}, canary: {} });
  });

  it('an update applies in place: new weights from the next request, unmatched requests get 404', async () => {
    policy.update({ routes: [{ match: { pathPrefix: '/admin/' }, to: [{ service: 'canary', weight: 1 }] }] });
    assert.equal(((await (await get('/admin/x')).json()) as { name: string }).name, 'canary');
    const res = await get('/nothing');
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('x-cmesh-error'), 'no-route');
    await res.arrayBuffer();
    policy.update(POLICY);
  });
});

it('a port with nothing configured stays on the plain path until a fault or limit appears', () => {
  const state = new ProjectPolicyState();
  state.update({ api: {} });
  const pool = new TestPool('api', []);
  const p = new ListenerPolicy({ service: 'api', listenerPort: 80, state, resolve: () => ({ service: 'api', pool, mesh: testMesh() }) }, undefined);
  assert.equal(p.decide('GET', '/', [], '127.0.0.1'), undefined);
  state.setRuntimeFaults('api', { abort: { percent: 100, status: 500 } });
  assert.equal(p.decide('GET', '/', [], '127.0.0.1')?.kind, 'answer');
  state.setRuntimeFaults('api', undefined);
  state.update({ api: { policy: { circuitBreaker: { maxRequests: 5 } } } });
  assert.equal(p.decide('GET', '/', [], '127.0.0.1')?.kind, 'forward');
});

it('absolute-form targets are matched and rewritten by their path', () => {
  const state = new ProjectPolicyState();
  state.update({ api: {} });
  const pool = new TestPool('api', []);
  const policy: TrafficPolicy = { routes: [{ match: { pathPrefix: '/v1/' }, stripPrefix: '/v1', to: [{ service: 'api', weight: 1 }] }] };
  const p = new ListenerPolicy({ service: 'api', listenerPort: 80, state, resolve: () => ({ service: 'api', pool, mesh: testMesh() }) }, policy);
  const d = p.decide('GET', 'http://example.test:8080/v1/users?x=1', [], '127.0.0.1');
  assert.equal(d?.kind, 'forward');
  assert.equal(d?.kind === 'forward' ? d.url : '', 'http://example.test:8080/users?x=1');
  assert.equal(p.decide('GET', 'http://example.test/v2/', [], '127.0.0.1')?.kind, 'answer');
});
