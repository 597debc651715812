// A drain during a start-first gateway replacement: the old gateway and its `-next` (one index, two containers) both
// report, and the replica is drained only once neither has a request in flight to it.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ContainerEngine } from './api/engine.ts';
import { GATEWAY_PROTOCOL_VERSION, type GatewayStats } from './api/gateway-control.ts';
import type { ServiceTableRow } from './api/service-table.ts';
import { DRAIN_REPORT_STALE_MS, drainedEverywhere } from './gateway-hub-drain.ts';
import { EastWestRuntime } from './gateway-wiring.ts';
import { desired, project, svc } from './reconcile/testing.ts';

const home = mkdtempSync(join(tmpdir(), 'cgwd-'));
after(() => rmSync(home, { recursive: true, force: true }));

/** A gateway process's report: `host` names its container, `startedAt` its process; web#1 with `inFlight`. */
const report = (host: string, startedAt: number, time: number, inFlight: number, draining = true): GatewayStats =>
  ({
    type: 'stats',
    version: GATEWAY_PROTOCOL_VERSION,
    project: 'p',
    host,
    time,
    startedAt,
    warnings: [],
    requests: [],
    services: [{ service: 'web', replicas: [{ id: 'web#1', draining, inFlight }] }],
  }) as unknown as GatewayStats;

test('drained only when no gateway process reports requests in flight to the replica, the older one included', () => {
  const since = 1000;
  const old = report('old', 1, 1100, 2);
  const next = report('next', 2, 1100, 0);
  assert.equal(drainedEverywhere([old, next], 'web#1', since, 1100), false, 'the old gateway still has 2 in flight');
  assert.equal(drainedEverywhere([next, old], 'web#1', since, 1100), false, 'whatever the order');
  assert.equal(drainedEverywhere([report('old', 1, 1150, 0), next], 'web#1', since, 1150), true);
  // Not yet told: a report from before the drain started does not count as drained.
  assert.equal(drainedEverywhere([report('old', 1, 900, 0), next], 'web#1', since, 1100), false);
  assert.equal(drainedEverywhere([report('next', 2, 1100, 0, false)], 'web#1', since, 1100), false, 'not draining yet');
  assert.equal(drainedEverywhere([], 'web#1', since, 1100), false);
  // A process that stopped reporting (socket still open) holds it up only until its report is stale.
  const frozen = report('old', 1, 900, 3);
  assert.equal(drainedEverywhere([frozen, next], 'web#1', since, 900 + DRAIN_REPORT_STALE_MS), false);
  assert.equal(drainedEverywhere([frozen, next], 'web#1', since, 901 + DRAIN_REPORT_STALE_MS), true);
  // A gateway that never knew the replica has nothing to wait for.
  assert.equal(drainedEverywhere([{ ...next, services: [] }], 'web#1', since, 1100), true);
});

test('EastWestRuntime.drained waits for the old gateway while its -next (same index, newer) reports 0 in flight', async () => {
  const d = desired(project('p', [svc('web', { expose: [3000], replicas: 1 })], { eastWest: true }));
  const rows = (): ServiceTableRow[] => [];
  const ew = new EastWestRuntime({ home, engine: {} as ContainerEngine, rows, emit: () => undefined, publishMs: 10 });
  const dir = await ew.hub.open('p');
  ew.observed(d, []);
  const connect = async () => {
    const s = net.connect(join(dir, 'gw.sock'));
    await new Promise<void>((r) => s.once('connect', () => r()));
    return s;
  };
  const old = await connect();
  const next = await connect();
  const send = (s: net.Socket, r: GatewayStats) => s.write(`${JSON.stringify(r)}\n`);
  let oldInFlight = 1;
  // Both report every 20 ms, as a gateway with a draining replica does (every 50 ms).
  const timer = setInterval(() => {
    send(old, report('old', 1, Date.now(), oldInFlight));
    send(next, report('next', 2, Date.now(), 0));
  }, 20);
  try {
    let done = false;
    const drained = ew.drained('p', 'web#1', 5000).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(done, false, 'the old gateway still has a request in flight to web#1');
    oldInFlight = 0;
    await drained;
    assert.equal(done, true);
  } finally {
    clearInterval(timer);
    old.destroy();
    next.destroy();
    await ew.close();
  }
});
