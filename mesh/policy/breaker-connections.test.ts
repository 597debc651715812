// circuit_breaker.max_connections on the real proxy path (loopback upstream): the target service's upstream
// connections are counted (idle keep-alive ones too); past the bound a request that would need a new connection is
// answered 503 overflow at once, and a request that can reuse an idle connection is not.

import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, before, it } from 'node:test';
import type { AccessLogEntry } from '../proxy/access-log.ts';
import { type RunningProxy, type TestUpstream, TestPool, startProxy, startUpstream, testMesh } from '../proxy/testing.ts';
import { ListenerPolicy } from './listener-policy.ts';
import { ProjectPolicyState } from './project-state.ts';

const state = new ProjectPolicyState();
const log: AccessLogEntry[] = [];
/** Requests the upstream holds until the test lets them go. */
const held: http.ServerResponse[] = [];
let arrived: () => void = () => {};
let upstream: TestUpstream;
let proxy: RunningProxy;

before(async () => {
  upstream = await startUpstream('api', (req, res) => {
    req.resume();
    if (req.url === '/hold') {
      held.push(res);
      arrived();
      return;
    }
    res.end('ok');
  });
  const pool = new TestPool('api', [upstream.upstream]);
  state.update({ api: { policy: { circuitBreaker: { maxConnections: 2 } } } });
  const policy = new ListenerPolicy({ service: 'api', listenerPort: 80, state, resolve: () => ({ service: 'api', pool, mesh: testMesh() }) }, undefined);
  proxy = await startProxy(pool, testMesh(), { policy, onRequest: (e) => log.push(e) });
});

after(async () => {
  for (const r of held) r.end();
  await proxy.close();
  await upstream.close();
});

function waitHeld(n: number): Promise<void> {
  return new Promise((resolve) => {
    arrived = () => {
      if (held.length >= n) resolve();
    };
    arrived();
  });
}

it('max_connections: 2 — a third concurrent request gets 503 overflow at once; idle connections are reused', async () => {
  const breaker = state.breaker('api');
  const first = fetch(`${proxy.url}/hold`);
  const second = fetch(`${proxy.url}/hold`);
  await waitHeld(2);
  assert.equal(breaker.stats().connections, 2);

  const t0 = performance.now();
  const refused = await fetch(`${proxy.url}/now`);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('x-cmesh-error'), 'overflow');
  assert.match(await refused.text(), /circuit breaker of service "api" is open \(connections limit reached\)/);
  assert.ok(performance.now() - t0 < 500, `overflow took ${performance.now() - t0}ms`);
  assert.deepEqual(breaker.stats().overflow, { connections: 1, pending: 0, requests: 0 });

  for (const r of held.splice(0)) r.end('done');
  assert.equal(await (await first).text(), 'done');
  assert.equal(await (await second).text(), 'done');

  // Both connections stay open (idle, kept alive) and count; the next request reuses one instead of overflowing.
  assert.equal(breaker.stats().connections, 2);
  const again = await fetch(`${proxy.url}/now`);
  assert.equal(again.status, 200);
  assert.equal(await again.text(), 'ok');
  assert.deepEqual(breaker.stats(), { connections: 2, pending: 0, requests: 0, overflow: { connections: 1, pending: 0, requests: 0 } });
  // The refusal is logged as the policy's own answer (cmesh_policy_rejections_total{reason="overflow"}).
  assert.deepEqual(
    log.map((e) => `${e.path} ${e.status} ${e.error ?? '-'}`),
    ['/now 503 overflow', '/hold 200 -', '/hold 200 -', '/now 200 -'],
  );
});

it('raising max_connections in place admits new connections; closed connections leave the count', async () => {
  const breaker = state.breaker('api');
  state.update({ api: { policy: { circuitBreaker: { maxConnections: 3 } } } });
  const holds = [fetch(`${proxy.url}/hold`), fetch(`${proxy.url}/hold`), fetch(`${proxy.url}/hold`)];
  await waitHeld(3);
  assert.equal(breaker.stats().connections, 3);
  // The replica closes its side: each connection leaves the pool and the breaker's count.
  for (const r of held.splice(0)) {
    r.setHeader('connection', 'close');
    r.end('bye');
  }
  for (const h of holds) await (await h).text();
  const deadline = Date.now() + 2000;
  while (breaker.stats().connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(breaker.stats().connections, 0);
  assert.equal(breaker.stats().overflow.connections, 1);
});

it('the bound is the target service’s, over all its replicas: a second replica cannot open past it', async () => {
  const b = await startUpstream('api2', (req, res) => {
    req.resume();
    held.push(res);
    arrived();
  });
  const state2 = new ProjectPolicyState();
  state2.update({ api: { policy: { circuitBreaker: { maxConnections: 1 } } } });
  // Round-robin over two replicas: the first request goes to `b`, the second would open a connection to `upstream`.
  const pool = new TestPool('api', [b.upstream, upstream.upstream]);
  const policy = new ListenerPolicy({ service: 'api', listenerPort: 80, state: state2, resolve: () => ({ service: 'api', pool, mesh: testMesh() }) }, undefined);
  const p = await startProxy(pool, testMesh(), { policy });
  try {
    const first = fetch(`${p.url}/hold`);
    await waitHeld(1);
    const refused = await fetch(`${p.url}/now`);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('x-cmesh-error'), 'overflow');
    await refused.arrayBuffer();
    assert.deepEqual(state2.breaker('api').stats(), { connections: 1, pending: 0, requests: 1, overflow: { connections: 1, pending: 0, requests: 0 } });
    for (const r of held.splice(0)) r.end('done');
    assert.equal(await (await first).text(), 'done');
  } finally {
    for (const r of held.splice(0)) r.end();
    await p.close();
    await b.close();
  }
});
