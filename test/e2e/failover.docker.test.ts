// Issue 5's failover acceptance, as written: a steady 500 req/s for 20 s through the daemon's published port to 3 echo
// replicas, `docker kill -s KILL` of one of them mid-run, and 0 failed requests of ≥ 10 000. The load is open loop
// (request i is due at i/rate, whatever earlier ones do), so a stall shows up as latency, not as a quietly lower rate.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Pool } from 'undici';
import type { ServiceTableRow } from '../../daemon/api/control.ts';
import { type CmeshCli, until } from '../helpers/cmesh-cli.ts';
import { newRunId, run, dockerTestFile } from '../helpers/docker.ts';
import { type EchoProject, echoProject } from '../helpers/echo-project.ts';
import { failed, loopbackPool, openLoop, summary } from '../helpers/load.ts';

await dockerTestFile();

const runId = newRunId('failover');
const RATE = 500;
const DURATION_MS = 20_000;
const TOTAL = (RATE * DURATION_MS) / 1000;
const MAX_IN_FLIGHT = 256;
let p: EchoProject | undefined;
let cli: CmeshCli;
let client: Pool | undefined;

async function web(): Promise<ServiceTableRow | undefined> {
  const rows = JSON.parse((await cli.ok(['services', '--json'])).stdout) as ServiceTableRow[];
  return rows.find((s) => s.service === 'web');
}

const waitRoutable = (n: number, timeoutMs: number): Promise<true> =>
  until(`${n} routable web replicas`, timeoutMs, async () => {
    const row = await web();
    return row && row.replicas.filter((r) => r.routable).length === n ? true : undefined;
  }, 200);

before(async () => {
  p = await echoProject({
    runId,
    restart: 'always',
    replicas: 3,
    environment: { SHUTDOWN_GRACE_MS: '2000' },
    stopGracePeriod: '3s',
    lb: 'p2c',
    health: { interval: '250ms', timeout: '500ms', rise: 2, fall: 2 },
    timeouts: { connect: '500ms', request: '5s' },
  });
  cli = p.cli;
  client = loopbackPool(p.port, MAX_IN_FLIGHT);
});

after(async () => {
  await client?.destroy().catch(() => undefined);
  await p?.teardown();
});

test(`failover: steady ${RATE} req/s for ${DURATION_MS / 1000} s, SIGKILL of 1 of 3 replicas → 0 failed of ≥ ${TOTAL}`, { timeout: 180_000 }, async () => {
  await cli.ok(['up', '-d', '--wait', '--timeout', '60']);
  await waitRoutable(3, 20_000);
  const ps = (await cli.ps()).filter((r) => r.service === 'web' && r.state === 'running');
  assert.equal(ps.length, 3);
  const victim = ps[0]!;
  let killed: Promise<string> | undefined;
  // maxMs: twice the planned run, so a stall ends it (and fails on the count) well inside the test's timeout.
  const { outcomes, wallMs } = await openLoop(client!, {
    rate: RATE,
    total: TOTAL,
    maxInFlight: MAX_IN_FLIGHT,
    maxMs: 2 * DURATION_MS,
    onTick: (sent) => {
      // A third of the way in: enough steady state before, and 13 s of load on the survivors after.
      if (sent === Math.floor(TOTAL / 3)) killed = run(['kill', '-s', 'KILL', victim.container]);
    },
  });
  await killed;
  const line = summary(outcomes, wallMs);
  console.log(`# failover (SIGKILL web-${victim.replica} after ${Math.floor(TOTAL / 3)} requests): ${line}`);
  assert.ok(killed, 'the replica was killed under load');
  assert.ok(outcomes.length >= 10_000, `≥ 10 000 requests: ${line}`);
  assert.ok(wallMs < DURATION_MS + 5000, `the rate held (${line})`);
  assert.deepEqual(failed(outcomes).slice(0, 5), [], line);
  // restart: always — the victim comes back and rejoins after its rise checks.
  await waitRoutable(3, 30_000);
});
