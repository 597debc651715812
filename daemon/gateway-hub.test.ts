// The daemon's end of the gateway control channel with a fake gateway on the real unix socket: tables out (only when
// changed, the last one to a late connection), validated stats in, and the drain that waits for the gateway.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { GATEWAY_PROTOCOL_VERSION, type GatewayStats, type GatewayTable, gatewayTableSchema, parseGatewayLine } from './api/gateway-control.ts';
import type { ContainerEngine } from './api/engine.ts';
import { GatewayHub, mergeGatewayStats } from './gateway-hub.ts';
import { gatewayTable, withEastWest, withEastWestRoutes } from './gateway-table.ts';
import { EastWestRuntime } from './gateway-wiring.ts';
import { controlConnection } from './gateway-test-kit.ts';
import { desired, project, svc } from './reconcile/testing.ts';
import type { ServiceTableRow } from './api/service-table.ts';

const home = mkdtempSync(join(tmpdir(), 'cgw-'));
after(() => rmSync(home, { recursive: true, force: true }));

/** A fake gateway: the lines it received, and a way to answer. */
const fakeGateway = controlConnection;

const until = async (what: string, fn: () => boolean): Promise<void> => {
  const deadline = Date.now() + 3000;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const table = (n: number): GatewayTable => ({ type: 'table', version: GATEWAY_PROTOCOL_VERSION, project: 'p', services: [{ name: 'web', names: ['web'], ports: [{ port: 3000, protocol: 'http' }], mesh: { lb: 'p2c', protocol: 'http', weights: [], weight: 1, health: { intervalMs: 1000, timeoutMs: 1000, rise: 2, fall: 2, port: 3000 }, retries: 2, timeouts: { connectMs: 1, requestMs: 1, idleMs: 1 }, accessLog: false, healthExplicit: false }, desired: n, replicas: [] }] });

const stats = (over: Partial<GatewayStats> = {}): GatewayStats => ({ type: 'stats', version: GATEWAY_PROTOCOL_VERSION, project: 'p', time: Date.now(), services: [], warnings: [], startedAt: 1, requests: [], ...over });

test('hub: a table goes out once per change, a late gateway gets the last one; only valid stats are kept', async () => {
  const seen: GatewayStats[] = [];
  const hub = new GatewayHub(home, undefined, (_p, s) => seen.push(s));
  const dir = await hub.open('p');
  assert.equal(dir, join(home, 'gw', 'p'));
  const a = await fakeGateway(join(dir, 'gw.sock'));
  await until('the connection', () => hub.connected('p'));
  hub.publish('p', table(1));
  hub.publish('p', table(1));
  hub.publish('p', table(2));
  await until('two tables', () => a.lines.length === 2);
  assert.deepEqual(a.lines.map((l) => (JSON.parse(l) as GatewayTable).services[0]!.desired), [1, 2]);
  const b = await fakeGateway(join(dir, 'gw.sock'));
  await until('the last table on connect', () => b.lines.length === 1);
  assert.equal((JSON.parse(b.lines[0]!) as GatewayTable).services[0]!.desired, 2);
  a.send('{not json');
  a.send({ type: 'stats', project: 'p' });
  a.send(stats({ project: 'other' }));
  a.send(stats({ warnings: ['w'] }));
  await until('valid stats', () => seen.length === 1);
  assert.deepEqual(hub.stats('p')?.warnings, ['w']);
  a.socket.destroy();
  b.socket.destroy();
  await hub.close();
  assert.equal(hub.stats('p'), undefined);
});

test('drain: waits until the gateway reports the replica draining with nothing in flight', async () => {
  const d = desired(project('p', [svc('web', { expose: [3000], replicas: 1 })], { eastWest: true }));
  let draining = false;
  const rows = (): ServiceTableRow[] => [{ project: 'p', service: 'web', strategy: 'p2c', protocol: 'http', desired: 1, ready: 1, total: 1, draining: 0, panic: false, publishedPorts: [], replicas: [{ id: 'web#1', replica: 1, container: 'c'.repeat(64), state: 'running', endpoint: null, endpoints: [], weight: 1, draining, health: { active: 'healthy', passive: 'ok', ejections: 0 }, routable: true, inFlight: 0, latency: { ewmaMs: null, p50Ms: null, p95Ms: null, p99Ms: null }, requests: 0, errors: 0, errorRate: 0, requestsPerSec: 0 }] }];
  const ew = new EastWestRuntime({ home, engine: {} as ContainerEngine, rows, emit: () => undefined, publishMs: 10 });
  const dir = await ew.hub.open('p');
  ew.observed(d, []);
  const gw = await fakeGateway(join(dir, 'gw.sock'));
  await until('the first table', () => gw.lines.length >= 1);
  // The gateway has one request in flight on web#1 until we say otherwise.
  let inFlight = 1;
  gw.socket.on('data', () => {
    const last = JSON.parse(gw.lines.at(-1)!) as GatewayTable;
    const r = last.services[0]!.replicas[0];
    gw.send(stats({ time: Date.now(), services: [{ service: 'web', replicas: [{ id: 'web#1', draining: r?.draining ?? false, inFlight }] }] as unknown as ServiceTableRow[] }));
  });
  draining = true;
  let done = false;
  const drained = ew.drained('p', 'web#1', 5000).then(() => (done = true));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(done, false, 'still waiting for the request in flight at the gateway');
  inFlight = 0;
  gw.send(stats({ time: Date.now(), services: [{ service: 'web', replicas: [{ id: 'web#1', draining: true, inFlight: 0 }] }] as unknown as ServiceTableRow[] }));
  await drained;
  assert.equal(done, true);
  gw.socket.destroy();
  await ew.close();
});

test('table and rows: meshed services only, names with aliases; east-west columns joined per replica', () => {
  const spec = project('p', [svc('web', { expose: [3000], networks: { default: { aliases: ['www'] } } }), svc('side', { expose: [9000], mesh: { ...svc('x').mesh, eastWest: false } })], { eastWest: true });
  const d = desired(spec);
  const t = gatewayTable(d, []);
  assert.deepEqual(t.services.map((s) => [s.name, s.names, s.ports]), [['web', ['web', 'www'], [{ port: 3000, protocol: 'tcp' }]]]);
  // Sticky placement: the table says which gateway serves web as the running gateways have it, not a first up's.
  assert.equal(t.services[0]!.gateway, 0);
  assert.equal(gatewayTable(d, [], { placement: new Map([['web', 2]]) }).services[0]!.gateway, 2);
  const row = { project: 'p', service: 'web', replicas: [{ id: 'web#1' }] } as unknown as ServiceTableRow;
  const side = { project: 'p', service: 'side', replicas: [] } as unknown as ServiceTableRow;
  const gw = stats({ time: 5, services: [{ service: 'web', ready: 1, replicas: [{ id: 'web#1', requests: 7, health: { active: 'healthy' } }] }] as unknown as ServiceTableRow[] });
  const [web, other] = withEastWest(d, [row, side], gw);
  assert.deepEqual(web!.eastWest, { ports: [{ port: 3000, protocol: 'tcp' }], ready: 1, reportedAt: 5 });
  assert.equal(web!.replicas[0]!.eastWest?.requests, 7);
  assert.equal(other!.eastWest, undefined);
  assert.deepEqual(withEastWest(desired(project('p', spec.services ? Object.values(spec.services) : [])), [row], gw), [row]);
});

test('several gateways of one project: their reports side by side; a gateway that leaves takes its rows along', async () => {
  const hub = new GatewayHub(home);
  const dir = await hub.open('q');
  const first = await fakeGateway(join(dir, 'gw.sock'));
  const second = await fakeGateway(join(dir, 'gw.sock'));
  const row = (service: string) => ({ service, replicas: [] }) as unknown as ServiceTableRow;
  first.send(stats({ project: 'q', time: 20, services: [row('db')], warnings: ['a'] }));
  second.send(stats({ project: 'q', gateway: 1, time: 10, services: [row('replica-db')], warnings: ['b'] }));
  await until('both reports', () => (hub.stats('q')?.services.length ?? 0) === 2);
  const merged = hub.stats('q')!;
  assert.deepEqual(merged.services.map((s) => s.service), ['db', 'replica-db']);
  assert.deepEqual(merged.warnings, ['a', 'b']);
  assert.equal(merged.time, 10, 'the oldest report: "reported since T" holds for every gateway');
  second.socket.destroy();
  await until('the second gateway gone', () => hub.stats('q')?.services.length === 1);
  assert.deepEqual(mergeGatewayStats([]), undefined);
  // The first gateway swaps its code: a newer worker process of index 0 reports too; its rows win, not both.
  const newer = await fakeGateway(join(dir, 'gw.sock'));
  newer.send(stats({ project: 'q', time: 30, startedAt: 2, services: [row('db'), row('db-extra')] }));
  await until('the newer worker', () => hub.stats('q')?.services.length === 2);
  assert.deepEqual(hub.stats('q')!.services.map((s) => s.service), ['db', 'db-extra']);
  first.send(stats({ project: 'q', time: 31, startedAt: 1, services: [row('db')] }));
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(hub.stats('q')!.services.map((s) => s.service), ['db', 'db-extra'], 'the older process does not take over again');
  first.socket.destroy();
  newer.socket.destroy();
  await hub.close();
});

test("the table carries each service's traffic policy and its run-time faults, and passes the gateway's schema", () => {
  const policy = { rateLimit: { requestsPerSecond: 5, burst: 10, key: 'ip' }, routes: [{ match: { pathPrefix: '/a/' }, to: [{ service: 'web', weight: 1 }] }] };
  const spec = project('p', [svc('web', { expose: [3000], mesh: { ...svc('x').mesh, policy } }), svc('db', { expose: [5432] })], { eastWest: true });
  const t = gatewayTable(desired(spec), [], { faults: { db: { abort: { percent: 5, status: 503 } } } });
  const byName = Object.fromEntries(t.services.map((s) => [s.name, s]));
  assert.deepEqual(byName['web']!.policy, policy);
  assert.equal(byName['web']!.faults, undefined);
  assert.deepEqual(byName['db']!.faults, { abort: { percent: 5, status: 503 } });
  assert.equal(byName['db']!.policy, undefined);
  assert.deepEqual(parseGatewayLine(JSON.stringify(t), gatewayTableSchema), t);
});

test('cmesh routes gets the gateways\' route counters and breakers beside the daemon\'s, when they report them', () => {
  const view = { ports: [], faults: [], breakers: [] };
  assert.deepEqual(withEastWestRoutes(view, undefined), view);
  const ports = [{ service: 'front', host: 'east-west', port: 3000, routes: [] }];
  const one = stats({ project: 'q', time: 7, services: [], policy: { ports, breakers: [] } });
  assert.deepEqual(withEastWestRoutes(view, one), { ...view, eastWest: { ports, breakers: [], reportedAt: 7 } });
  // Two gateways of one project: their tables side by side.
  const other = stats({ project: 'q', gateway: 1, time: 9, services: [], policy: { ports: [{ ...ports[0]!, service: 'db' }], breakers: [] } });
  assert.deepEqual(mergeGatewayStats([one, other])?.policy?.ports.map((p) => p.service), ['front', 'db']);
});
