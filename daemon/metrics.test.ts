// DaemonMetrics: the DaemonEvent → metric mapping, the proxy hooks, bounded labels, the scrape-time gauges, and the
// endpoint (default address parsing, a taken port).

import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import type { ServiceTableRow } from './api/service-table.ts';
import { codeClass, DaemonMetrics, methodLabel, replicaLabel } from './metrics.ts';
import { parseMetricsAddr, serveMetrics } from './metrics-server.ts';

const P = 'shop';

async function value(m: DaemonMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = m.registry.getSingleMetric(name);
  assert.ok(metric, `${name} is registered`);
  const data = await metric.get();
  const hit = data.values.find((v) => (v as { metricName?: string }).metricName === undefined || (v as { metricName?: string }).metricName === name
    ? Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)
    : false);
  return hit?.value;
}

test('label helpers keep cardinality bounded', () => {
  assert.equal(methodLabel('get'), 'GET');
  assert.equal(methodLabel('PROPFIND'), 'OTHER');
  assert.equal(codeClass(204), '2xx');
  assert.equal(codeClass(503), '5xx');
  assert.equal(codeClass(0), 'none');
  assert.equal(replicaLabel('web#3'), '3');
  assert.equal(replicaLabel(undefined), 'none');
});

test('requests: counted by replica, method, class; duration observed per service', async () => {
  const m = new DaemonMetrics({ defaultMetrics: false });
  m.request(P, { service: 'web', method: 'GET', status: 200, durationMs: 12, upstream: 'web#2' });
  m.request(P, { service: 'web', method: 'GET', status: 201, durationMs: 8, upstream: 'web#2' });
  m.request(P, { service: 'web', method: 'BREW', status: 503, durationMs: 1 });
  assert.equal(await value(m, 'cmesh_requests_total', { project: P, service: 'web', replica: '2', method: 'GET', code_class: '2xx' }), 2);
  assert.equal(await value(m, 'cmesh_requests_total', { replica: 'none', method: 'OTHER', code_class: '5xx' }), 1);
  const text = await m.expose();
  assert.match(text, /cmesh_request_duration_seconds_count\{project="shop",service="web"\} 3/);
  // `path` names the traffic path, never a request path (unbounded cardinality).
  assert.deepEqual([...new Set([...text.matchAll(/path="([^"]*)"/g)].map((m) => m[1]))], ['ingress']);
});

test("east-west: a gateway's cumulative totals become path=east-west increases; a restarted gateway counts again", async () => {
  const m = new DaemonMetrics({ defaultMetrics: false });
  const t = (count: number, upstream = 'web#1') => [{ service: 'web', upstream, method: 'GET', codeClass: '2xx', count }];
  const later = Date.now() + 1000;
  m.eastWestRequests('shop', later, t(5));
  m.eastWestRequests('shop', later, t(8));
  m.eastWestRequests('shop', later, t(8));
  const ew = { project: 'shop', service: 'web', replica: '1', method: 'GET', code_class: '2xx', path: 'east-west' };
  assert.equal(await value(m, 'cmesh_requests_total', ew), 8);
  // The gateway restarted: its totals start from 0 and are all new.
  m.eastWestRequests('shop', later + 1, t(3));
  assert.equal(await value(m, 'cmesh_requests_total', ew), 11);
  // A gateway older than the daemon's metrics: its totals so far were the previous daemon's to export.
  m.eastWestRequests('old', 0, [{ service: 'db', method: 'GET', codeClass: '2xx', count: 100 }]);
  m.eastWestRequests('old', 0, [{ service: 'db', method: 'GET', codeClass: '2xx', count: 104 }]);
  assert.equal(await value(m, 'cmesh_requests_total', { project: 'old', path: 'east-west' }), 4);  // Two gateways of one project (a TCP port collision) report alternately: each keeps its own totals, no reset.
  const db = (count: number, upstream: string, service: string) => [{ service, upstream, method: 'GET', codeClass: '2xx', count }];
  m.eastWestRequests('two', later, db(10, 'db#1', 'db'), 0);
  m.eastWestRequests('two', later + 5, db(7, 'rdb#1', 'rdb'), 1);
  m.eastWestRequests('two', later, db(12, 'db#1', 'db'), 0);
  m.eastWestRequests('two', later + 5, db(9, 'rdb#1', 'rdb'), 1);
  assert.equal(await value(m, 'cmesh_requests_total', { project: 'two', service: 'db', path: 'east-west' }), 12);
  assert.equal(await value(m, 'cmesh_requests_total', { project: 'two', service: 'rdb', path: 'east-west' }), 9);
  // One gateway during a code swap: the old and the new worker process report in turns, each its own totals.
  m.eastWestRequests('swap', later, db(50, 'db#1', 'db'));
  m.eastWestRequests('swap', later + 9, db(2, 'db#1', 'db'));
  m.eastWestRequests('swap', later, db(51, 'db#1', 'db'));
  m.eastWestRequests('swap', later + 9, db(6, 'db#1', 'db'));
  assert.equal(await value(m, 'cmesh_requests_total', { project: 'swap', service: 'db', path: 'east-west' }), 57);
});

test('attempts: connect errors per replica, retries = attempts after the first', async () => {
  const m = new DaemonMetrics({ defaultMetrics: false });
  m.attempt(P, { service: 'web', upstream: 'web#1', attempt: 1, outcome: 'connect-error', latencyMs: 1, next: 'failover' });
  m.attempt(P, { service: 'web', upstream: 'web#2', attempt: 2, outcome: 'ok', latencyMs: 3 });
  assert.equal(await value(m, 'cmesh_upstream_connect_errors_total', { replica: '1' }), 1);
  assert.equal(await value(m, 'cmesh_retries_total', { service: 'web' }), 1);
});

test('events: ejections, restarts, reconcile and build durations', async () => {
  const m = new DaemonMetrics({ defaultMetrics: false });
  const base = { project: P, service: 'web', replica: 1 };
  m.observe({ ...base, type: 'ejection', time: 1, ejected: true, reason: '5xx' });
  m.observe({ ...base, type: 'ejection', time: 2, ejected: false, reason: 'back' });
  m.observe({ ...base, type: 'container', time: 3, action: 'restarting', container: 'c', name: 'n' });
  m.observe({ ...base, type: 'container', time: 3, action: 'started', container: 'c', name: 'n' });
  m.observe({ type: 'reconcile', project: P, time: 4, phase: 'done', actions: 2, durationMs: 1500 });
  m.observe({ type: 'reconcile', project: P, time: 4, phase: 'start', actions: 2 });
  m.observe({ type: 'build', project: P, service: 'api', time: 10_000, phase: 'start' });
  m.observe({ type: 'build', project: P, service: 'api', time: 13_000, phase: 'done' });
  m.observe({ type: 'build', project: P, service: 'db', time: 13_000, phase: 'done', text: 'up to date' });
  assert.equal(await value(m, 'cmesh_ejections_total', { replica: '1' }), 1);
  assert.equal(await value(m, 'cmesh_restarts_total', { replica: '1' }), 1);
  m.observe({ ...base, type: 'health', time: 5, source: 'probe', healthy: true, probes: 7 });
  m.observe({ ...base, type: 'health', time: 6, source: 'mesh', healthy: true });
  assert.equal(await value(m, 'cmesh_start_probes_total', { service: base.service }), 7);
  const text = await m.expose();
  assert.match(text, /cmesh_reconcile_duration_seconds_sum\{project="shop"\} 1\.5/);
  assert.match(text, /cmesh_reconcile_duration_seconds_count\{project="shop"\} 1/);
  assert.match(text, /cmesh_build_duration_seconds_sum\{project="shop",service="api"\} 3/);
  assert.doesNotMatch(text, /service="db"/, 'a cache hit is not a build');
});

test('gauges come from the service table at scrape time and forget vanished replicas', async () => {
  let rows: ServiceTableRow[] = [
    { project: P, service: 'web', desired: 2, ready: 1, replicas: [{ replica: 1, routable: true }, { replica: 2, routable: false }] } as unknown as ServiceTableRow,
  ];
  const m = new DaemonMetrics({ defaultMetrics: false, snapshot: () => rows });
  let text = await m.expose();
  assert.match(text, /cmesh_replicas_desired\{project="shop",service="web"\} 2/);
  assert.match(text, /cmesh_replicas_ready\{project="shop",service="web"\} 1/);
  assert.match(text, /cmesh_replica_healthy\{project="shop",service="web",replica="2"\} 0/);
  rows = [];
  text = await m.expose();
  assert.doesNotMatch(text, /replica="2"/);
});

test('UDP ports: forwarder counters per service (ports summed), sessions gauge, ends by reason, read at scrape time', async () => {
  const stats = (n: number) => ({ datagramsIn: 3 * n, datagramsOut: 2 * n, bytesIn: 30 * n, bytesOut: 20 * n, dropped: n, sessions: n, sessionsTotal: 4 * n, moved: n, evicted: 0, expired: 2 * n });
  let ports = [
    { project: P, service: 'dns', stats: stats(1) },
    { project: P, service: 'dns', stats: stats(2) },
  ];
  const m = new DaemonMetrics({ defaultMetrics: false, udp: () => ports });
  let text = await m.expose();
  assert.match(text, /cmesh_udp_datagrams_total\{project="shop",service="dns",direction="in"\} 9\n/);
  assert.match(text, /cmesh_udp_datagrams_total\{project="shop",service="dns",direction="out"\} 6\n/);
  assert.match(text, /cmesh_udp_bytes_total\{project="shop",service="dns",direction="in"\} 90\n/);
  assert.match(text, /cmesh_udp_dropped_datagrams_total\{project="shop",service="dns"\} 3\n/);
  assert.match(text, /cmesh_udp_sessions\{project="shop",service="dns"\} 3\n/);
  assert.match(text, /cmesh_udp_sessions_total\{project="shop",service="dns"\} 12\n/);
  assert.match(text, /cmesh_udp_session_ends_total\{project="shop",service="dns",reason="expired"\} 6\n/);
  ports = [];
  text = await m.expose();
  assert.doesNotMatch(text, /service="dns"/, 'a port that closed takes its series with it');
});

test('default process metrics carry the cmesh_ prefix', async () => {
  const text = await new DaemonMetrics().expose();
  assert.match(text, /^cmesh_process_cpu_seconds_total /m);
});

test('CMESH_METRICS_ADDR parsing', () => {
  assert.deepEqual(parseMetricsAddr(undefined), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseMetricsAddr(':9999'), { host: '127.0.0.1', port: 9999 });
  assert.deepEqual(parseMetricsAddr('0.0.0.0:1234'), { host: '0.0.0.0', port: 1234 });
  assert.equal(parseMetricsAddr('off'), 'off');
  assert.throws(() => parseMetricsAddr('nope'), /CMESH_METRICS_ADDR/);
  assert.throws(() => parseMetricsAddr('1.2.3.4:99999'), /CMESH_METRICS_ADDR/);
});

test('the endpoint serves /metrics; a taken port fails with EADDRINUSE', async () => {
  const m = new DaemonMetrics({ defaultMetrics: false });
  const ep = await serveMetrics(m, { host: '127.0.0.1', port: 0 });
  try {
    const res = await fetch(ep.url);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /# TYPE cmesh_requests_total counter/);
    assert.equal((await fetch(ep.url.replace('/metrics', '/other'))).status, 404);
    const port = Number(new URL(ep.url).port);
    await assert.rejects(serveMetrics(m, { host: '127.0.0.1', port }), { code: 'EADDRINUSE' });
  } finally {
    await ep.close();
  }
  assert.ok(net.isIP('127.0.0.1'));
});

test('the default exposition has no promtool-lint offenders (non-counter *_total)', async () => {
  const text = await new DaemonMetrics().expose();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (m[2] !== 'counter') assert.doesNotMatch(m[1]!, /_total$/, `${m[1]} is a ${m[2]}`);
  }
});
