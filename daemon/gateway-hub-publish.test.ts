// The publish tick's cut (bench/RESULTS.md, ctlplane): a tick whose rows, faults and drain lists are as last time
// makes no table, and every change still reaches the gateway on the next tick.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { GatewayTable } from './api/gateway-control.ts';
import type { ContainerEngine } from './api/engine.ts';
import type { FaultSpec } from './api/traffic-policy.ts';
import type { ReplicaTableRow, ServiceTableRow } from './api/service-table.ts';
import { gatewayTable, gatewayTableKey } from './gateway-table.ts';
import { EastWestRuntime } from './gateway-wiring.ts';
import { desired, project, svc } from './reconcile/testing.ts';
import { replicaRow } from '../test/helpers/service-table-rows.ts';

const home = mkdtempSync(join(tmpdir(), 'cgwp-'));
after(() => rmSync(home, { recursive: true, force: true }));

const replica = (n: number, over: Partial<ReplicaTableRow> = {}): ReplicaTableRow => replicaRow(n, { container: String(n).repeat(64), ...over });
const row = (replicas: ReplicaTableRow[], desiredCount = replicas.length): ServiceTableRow => ({
  project: 'p',
  service: 'web',
  strategy: 'p2c',
  protocol: 'http',
  desired: desiredCount,
  ready: replicas.length,
  total: replicas.length,
  draining: 0,
  panic: false,
  publishedPorts: [],
  replicas,
});

test('the key changes with every field the table takes from the rows, faults and drains, and with nothing else', () => {
  const d = desired(project('p', [svc('web', { expose: [3000] })], { eastWest: true }));
  const base = [row([replica(1), replica(2)])];
  const variants: [string, ServiceTableRow[], { faults?: Record<string, FaultSpec>; drain?: string[]; retire?: string[] }][] = [
    ['desired count', [row([replica(1), replica(2)], 3)], {}],
    ['a replica more', [row([replica(1), replica(2), replica(3)])], {}],
    ['container', [row([replica(1), replica(2, { container: 'f'.repeat(64) })])], {}],
    ['replica number', [row([replica(1), replica(2, { replica: 7 })])], {}],
    ['id', [row([replica(1), replica(2, { id: 'web#9' })])], {}],
    ['state', [row([replica(1), replica(2, { state: 'exited' })])], {}],
    ['draining', [row([replica(1), replica(2, { draining: true })])], {}],
    ['active health', [row([replica(1), replica(2, { health: { active: 'unhealthy', passive: 'ok', ejections: 0 } })])], {}],
    ['passive health', [row([replica(1), replica(2, { health: { active: 'healthy', passive: 'ejected', ejections: 1 } })])], {}],
    ['address', [row([replica(1), replica(2, { endpoints: [{ containerPort: 3000, protocol: 'tcp', host: '172.18.0.9', hostPort: 3000, direct: true }] })])], {}],
    ['faults', base, { faults: { web: { abort: { percent: 5, status: 503 } } } }],
    ['drain', base, { drain: ['abc'] }],
    ['retire', base, { drain: ['abc'], retire: ['abc'] }],
  ];
  const key0 = gatewayTableKey(base);
  const table0 = JSON.stringify(gatewayTable(d, base));
  for (const [what, rows, extras] of variants) {
    assert.notEqual(gatewayTableKey(rows, extras), key0, `${what}: the key must change`);
    assert.notEqual(JSON.stringify(gatewayTable(d, rows, extras)), table0, `${what}: (the table changes too)`);
  }
  // What the table does not carry leaves the key as it is: counters, latency, in flight, weights.
  const busy = [row([replica(1, { requests: 900, inFlight: 3, requestsPerSec: 50, latency: { ewmaMs: 1, p50Ms: 1, p95Ms: 2, p99Ms: 3 } }), replica(2, { errors: 4, weight: 2 })])];
  assert.equal(gatewayTableKey(busy), key0);
  assert.equal(JSON.stringify(gatewayTable(d, busy)), table0);
});

test("a replica's direct endpoint is its address in the table; a port published on loopback is not", () => {
  const d = desired(project('p', [svc('web', { expose: [3000] })], { eastWest: true }));
  const direct = replica(1, { endpoints: [{ containerPort: 3000, protocol: 'tcp', host: '172.18.0.5', hostPort: 3000, direct: true }] });
  const published = replica(2, { endpoints: [{ containerPort: 3000, protocol: 'tcp', host: '127.0.0.1', hostPort: 49153 }] });
  const [first, second] = gatewayTable(d, [row([direct, published])]).services[0]!.replicas;
  assert.equal(first?.address, '172.18.0.5');
  assert.equal(second?.address, undefined);
});

/** A connected fake gateway counting the tables it receives, and the runtime under test. */
async function publishing(rows: () => ServiceTableRow[], faults: () => Record<string, FaultSpec> = () => ({})) {
  const ew = new EastWestRuntime({ home, engine: {} as ContainerEngine, rows, emit: () => undefined, publishMs: 10, faults });
  const dir = await ew.hub.open('p');
  const socket = net.connect(join(dir, 'gw.sock'));
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const lines: GatewayTable[] = [];
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    const parts = (buffered + chunk).split('\n');
    buffered = parts.pop()!;
    for (const l of parts) lines.push(JSON.parse(l) as GatewayTable);
  });
  // Every table the runtime hands to the hub (made), sent or not.
  let made = 0;
  const publish = ew.hub.publish.bind(ew.hub);
  ew.hub.publish = (project, table) => {
    made++;
    return publish(project, table);
  };
  const done = async (): Promise<void> => {
    socket.destroy();
    await ew.close();
  };
  return { ew, lines, made: () => made, done };
}

const waitFor = async (what: string, fn: () => boolean): Promise<void> => {
  const deadline = Date.now() + 3000;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

test('ticks with nothing changed make no table; a change in the rows, the faults or the desired state goes out on the next tick', async () => {
  let replicas = [replica(1), replica(2)];
  let faults: Record<string, FaultSpec> = {};
  const gw = await publishing(
    () => [row(replicas)],
    () => faults,
  );
  // Finally: a failed assertion must not leave the tick and the socket holding the test process open.
  try {
    const spec = project('p', [svc('web', { expose: [3000] })], { eastWest: true });
    gw.ew.observed(desired(spec), []);
    await waitFor('the first table', () => gw.lines.length === 1);
    const before = gw.made();
    // ~20 ticks of 10 ms with the same rows: no table is made (before the cut: one a tick, serialized and compared).
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(gw.made(), before, 'no table made while nothing changed');
    assert.equal(gw.lines.length, 1);

    replicas = [replica(1), replica(2, { draining: true })];
    await waitFor('the drain', () => gw.lines.at(-1)?.services[0]?.replicas[1]?.draining === true);
    faults = { web: { abort: { percent: 5, status: 503 } } };
    await waitFor('the fault', () => gw.lines.at(-1)?.services[0]?.faults !== undefined);
    // Rows unchanged, desired state new (an alias): observed() makes the table afresh.
    gw.ew.observed(desired(project('p', [svc('web', { expose: [3000], networks: { default: { aliases: ['www'] } } })], { eastWest: true })), []);
    await waitFor('the alias', () => gw.lines.at(-1)?.services[0]?.names.includes('www') === true);
    assert.equal(gw.lines.length, 4, 'one table per change');
  } finally {
    await gw.done();
  }
});
