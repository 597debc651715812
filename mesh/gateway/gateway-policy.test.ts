// Policy on the east-west path without Docker: replicas on 127.0.0.2 (front) and 127.0.0.3 (canary) share a port, the
// gateway listens on 127.0.0.1. A route split, strip_prefix, the target's own rate limit after the route's, and
// run-time faults arriving in a later table all apply to calls by name as on a published port.

import assert from 'node:assert/strict';
import http from 'node:http';
import { type TestContext, test } from 'node:test';
import { GATEWAY_PROTOCOL_VERSION, type GatewayService, type GatewayTable } from '../../daemon/api/gateway-control.ts';
import type { TrafficPolicy } from '../../daemon/api/traffic-policy.ts';
import { freePort } from '../proxy/testing.ts';
import { Gateway } from './gateway.ts';
import { httpService } from './gateway-test-kit.ts';

/** A replica that answers `<name> <path it received>`. */
async function replica(t: TestContext, host: string, port: number, name: string): Promise<void> {
  const server = http.createServer((req, res) => res.end(`${name} ${req.url}`));
  await new Promise<void>((r) => server.listen(port, host, r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
}

interface Reply {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

function call(port: number, host: string, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers: { host: `${host}:${port}` }, agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      })
      .on('error', reject);
  });
}

/** Seeded healthy: routable at once, no probe needed. */
function service(name: string, port: number, address: '2' | '3', policy?: TrafficPolicy): GatewayService {
  return httpService(name, port, address.padEnd(12, '0'), policy === undefined ? {} : { policy });
}

async function gatewayFor(t: TestContext, services: GatewayService[]): Promise<{ gateway: Gateway; table: GatewayTable }> {
  const abort = new AbortController();
  const gateway = new Gateway({ signal: abort.signal, host: '127.0.0.1', resolve: async (c) => `127.0.0.${c[0]}` });
  // Closed when the test ends, with the replicas.
  t.after(async () => {
    abort.abort();
    await gateway.close();
  });
  const table: GatewayTable = { type: 'table', version: GATEWAY_PROTOCOL_VERSION, project: 'p', services };
  await gateway.apply(table);
  return { gateway, table };
}

const frontPolicy: TrafficPolicy = {
  routes: [
    { match: { pathPrefix: '/c/' }, stripPrefix: '/c', to: [{ service: 'canary', weight: 1 }] },
    {
      match: {},
      to: [
        { service: 'front', weight: 90 },
        { service: 'canary', weight: 10 },
      ],
    },
  ],
};

test('calls by name get the route split, strip_prefix, and `cmesh fault` from a later table', async (t) => {
  const port = await freePort();
  const { gateway, table } = await gatewayFor(t, [service('front', port, '2', frontPolicy), service('canary', port, '3')]);
  await replica(t, '127.0.0.2', port, 'front');
  await replica(t, '127.0.0.3', port, 'canary');

  const counts: Record<string, number> = {};
  for (let i = 0; i < 100; i++) {
    const r = await call(port, 'front', '/');
    assert.equal(r.status, 200, r.body);
    const who = r.body.split(' ')[0]!;
    counts[who] = (counts[who] ?? 0) + 1;
  }
  // The smooth weighted split is exact over a whole cycle.
  assert.deepEqual(counts, { front: 90, canary: 10 });
  assert.equal((await call(port, 'front', '/c/x?y=1')).body, 'canary /x?y=1');
  // A call to canary by its own name is canary's listener: front's routes do not apply.
  assert.equal((await call(port, 'canary', '/c/x')).body, 'canary /c/x');
  // What the gateway reports for `cmesh routes`: front's table on its port with this gateway's counters.
  const report = gateway.policies.report();
  assert.deepEqual(report.breakers, []);
  assert.deepEqual(
    report.ports.map((p) => [p.service, p.host, p.port, p.routes.map((r) => [r.requests, r.to.map((t) => `${t.target}=${t.requests}`).join(' ')])]),
    [['front', 'east-west', port, [[1, 'canary=1'], [100, 'front=90 canary=10']]]],
  );

  // `cmesh fault front --abort 503 --percent 100` arrives as the table's run-time faults: the next call sees it.
  const faulty = { ...table, services: table.services.map((s) => (s.name === 'front' ? { ...s, faults: { abort: { percent: 100, status: 503 } } } : s)) };
  await gateway.apply(faulty);
  // The default route picks front 9 times in 10: front's faults apply to the calls it sends to front.
  const hit = await call(port, 'front', '/');
  assert.equal(hit.status, 503);
  assert.equal(hit.headers['x-cmesh-error'], 'fault-injected');
  // `--clear`: the table without them stops the aborts at once.
  await gateway.apply(table);
  for (let i = 0; i < 10; i++) assert.equal((await call(port, 'front', '/')).status, 200);
});

test("the route's limit applies on the listener, then the target service's own; buckets carry over a new table", async (t) => {
  const port = await freePort();
  const slow = { requestsPerSecond: 0.001, key: 'ip' };
  const { gateway, table } = await gatewayFor(t, [
    service('front', port, '2', { routes: [{ match: {}, to: [{ service: 'canary', weight: 1 }], rateLimit: { ...slow, burst: 5 } }] }),
    service('canary', port, '3', { rateLimit: { ...slow, burst: 3 } }),
  ]);
  await replica(t, '127.0.0.2', port, 'front');
  await replica(t, '127.0.0.3', port, 'canary');
  // canary's own burst (3) is the tighter one: the 4th call through front's route is refused by it.
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await call(port, 'front', '/')).status);
  assert.deepEqual(statuses, [200, 200, 200, 429]);
  const refused = await call(port, 'canary', '/');
  assert.equal(refused.status, 429);
  assert.equal(refused.headers['x-cmesh-error'], 'rate-limited');
  assert.ok(Number(refused.headers['retry-after']) >= 1);
  // The daemon's metrics count route series and refusals from these totals (daemon/metrics-policy.test.ts).
  const refusals = gateway.requestTotals().filter((r) => r.reason !== undefined);
  assert.deepEqual(
    refusals.map(({ service, route, target, reason, codeClass, count }) => ({ service, route, target, reason, codeClass, count })),
    [
      { service: 'front', route: '#0', target: 'canary', reason: 'rate-limited', codeClass: '4xx', count: 1 },
      { service: 'canary', route: undefined, target: undefined, reason: 'rate-limited', codeClass: '4xx', count: 1 },
    ],
  );
  assert.equal(gateway.requestTotals().find((r) => r.route === '#0' && r.reason === undefined)?.count, 3);
  // A new table with the same limits keeps the buckets (an `up` that changes nothing else does not refill them).
  await gateway.apply({ ...table, services: table.services.map((s) => ({ ...s, desired: 1 })) });
  assert.equal((await call(port, 'canary', '/')).status, 429);
});
