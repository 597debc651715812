// Traffic-policy metrics: per route and target, and the policy's own answers by reason (others are not counted).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DaemonMetrics } from './metrics.ts';

async function value(m: DaemonMetrics, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = m.registry.getSingleMetric(name);
  assert.ok(metric, `${name} is registered`);
  const data = await metric.get();
  return data.values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))?.value;
}

test('route requests by route index and target; policy rejections by reason', async () => {
  const m = new DaemonMetrics({ defaultMetrics: false });
  const base = { service: 'front', method: 'GET', durationMs: 1 };
  m.request('p', { ...base, status: 200, upstream: 'admin#1', route: '#1 path_prefix=/admin/', target: 'admin' });
  m.request('p', { ...base, status: 200, upstream: 'admin#2', route: '#1 path_prefix=/admin/', target: 'admin' });
  m.request('p', { ...base, status: 200, upstream: 'front#1', route: '#2 *' });
  // The proxy names the route's target on a request it refused for it (mesh/policy/proxy-normalize.test.ts).
  m.request('p', { ...base, status: 429, route: '#1 path_prefix=/admin/', target: 'admin', error: 'rate-limited' });
  m.request('p', { ...base, status: 503, error: 'overflow' });
  m.request('p', { ...base, status: 502, error: 'upstream-connect-failed' });
  assert.equal(await value(m, 'cmesh_route_requests_total', { project: 'p', service: 'front', route: '#1', target: 'admin', code_class: '2xx' }), 2);
  assert.equal(await value(m, 'cmesh_route_requests_total', { route: '#2', target: 'front', code_class: '2xx' }), 1);
  assert.equal(await value(m, 'cmesh_route_requests_total', { route: '#1', target: 'admin', code_class: '4xx' }), 1);
  assert.equal(await value(m, 'cmesh_route_requests_total', { route: '#1', target: 'front', code_class: '4xx' }), undefined);
  assert.equal(await value(m, 'cmesh_policy_rejections_total', { service: 'front', reason: 'rate-limited' }), 1);
  assert.equal(await value(m, 'cmesh_policy_rejections_total', { reason: 'overflow' }), 1);
  assert.equal(await value(m, 'cmesh_policy_rejections_total', { reason: 'upstream-connect-failed' }), undefined);
});

test('breaker gauges are read at scrape time', async () => {
  const breakers = [{ project: 'p', breakers: [{ service: 'api', limits: { maxRequests: 10 }, requests: 7, pending: 2, connections: 5, overflow: { requests: 1, pending: 0, connections: 3 } }] }];
  const m = new DaemonMetrics({ defaultMetrics: false, breakers: () => breakers });
  assert.equal(await value(m, 'cmesh_circuit_breaker_requests', { project: 'p', service: 'api', state: 'in_flight' }), 7);
  assert.equal(await value(m, 'cmesh_circuit_breaker_requests', { service: 'api', state: 'pending' }), 2);
  assert.equal(await value(m, 'cmesh_circuit_breaker_connections', { project: 'p', service: 'api' }), 5);
  assert.equal(await value(m, 'cmesh_circuit_breaker_overflow_total', { service: 'api', bound: 'connections' }), 3);
  assert.equal(await value(m, 'cmesh_circuit_breaker_overflow_total', { service: 'api', bound: 'requests' }), 1);
  assert.equal(await value(m, 'cmesh_circuit_breaker_overflow_total', { service: 'api', bound: 'pending' }), 0);
});

test("east-west: a gateway's route series and policy refusals are counted as ingress ones, by increase", async () => {
  const m = new DaemonMetrics({ defaultMetrics: false });
  const later = Date.now() + 1000;
  const totals = (routed: number, limited: number, overflow: number) => [
    { service: 'front', upstream: 'admin#1', method: 'GET', codeClass: '2xx', route: '#1', target: 'admin', count: routed },
    { service: 'front', method: 'GET', codeClass: '4xx', route: '#1', target: 'admin', reason: 'rate-limited', count: limited },
    { service: 'api', method: 'GET', codeClass: '5xx', reason: 'overflow', count: overflow },
    { service: 'api', upstream: 'api#1', method: 'GET', codeClass: '5xx', count: 4 },
  ];
  m.eastWestRequests('p', later, totals(3, 2, 10));
  m.eastWestRequests('p', later, totals(5, 2, 25));
  assert.equal(await value(m, 'cmesh_route_requests_total', { project: 'p', service: 'front', route: '#1', target: 'admin', code_class: '2xx' }), 5);
  assert.equal(await value(m, 'cmesh_route_requests_total', { route: '#1', target: 'admin', code_class: '4xx' }), 2);
  assert.equal(await value(m, 'cmesh_policy_rejections_total', { project: 'p', service: 'front', reason: 'rate-limited' }), 2);
  assert.equal(await value(m, 'cmesh_policy_rejections_total', { project: 'p', service: 'api', reason: 'overflow' }), 25);
  // A replica's own 5xx is a request like any other, no refusal of the policy.
  assert.equal(await value(m, 'cmesh_requests_total', { project: 'p', service: 'api', replica: '1', code_class: '5xx', path: 'east-west' }), 4);
  assert.equal(await value(m, 'cmesh_policy_rejections_total', { project: 'p', service: 'front', reason: 'overflow' }), undefined);
});

test('count() (HTTP/1.x, plain arguments) exposes exactly what request() (an entry) does', async () => {
  const requests = [
    { service: 'front', method: 'GET', durationMs: 0.7, status: 200, upstream: 'admin#1', route: '#1 path_prefix=/admin/', target: 'admin' },
    { service: 'front', method: 'POST', durationMs: 30, status: 429, route: '#1 path_prefix=/admin/', target: 'admin', error: 'rate-limited' },
    { service: 'front', method: 'BREW', durationMs: 3, status: 0, error: 'client-abort' },
    { service: 'front', method: 'get', durationMs: 2, status: 503, upstream: 'front#2', error: 'overflow' },
  ];
  const viaEntry = new DaemonMetrics({ defaultMetrics: false });
  const viaCount = new DaemonMetrics({ defaultMetrics: false });
  for (const r of requests) {
    viaEntry.request('p', r);
    viaCount.count('p', r.service, r.upstream, r.method, r.status, r.durationMs, r.route, r.target, r.error);
  }
  const text = await viaCount.expose();
  assert.equal(text, await viaEntry.expose());
  assert.match(text, /cmesh_requests_total\{project="p",service="front",replica="1",method="GET",code_class="2xx",path="ingress"\} 1/);
  assert.match(text, /cmesh_policy_rejections_total\{project="p",service="front",reason="overflow"\} 1/);
});
