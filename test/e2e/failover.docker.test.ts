// Issue 5's failover acceptance, as written: a steady 500 req/s for 20 s through the daemon's published port to 3 echo
// replicas, `docker kill -s KILL` of one of them mid-run, and 0 failed requests of ≥ 10 000. The load is open loop
// (request i is due at i/rate, whatever earlier ones do), so a stall shows up as latency, not as a quietly lower rate.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Pool } from 'undici';
import type { ServiceTableRow } from '../../daemon/api/control.ts';
import { type CmeshCli, newCmeshCli, sleep, until } from '../helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, requireDocker, RUN_LABEL, run, TEST_LABEL } from '../helpers/docker.ts';
import { freePort } from '../helpers/free-port.ts';

const runId = newRunId('failover');
const project = runId;
const RATE = 500;
const DURATION_MS = 20_000;
const TOTAL = (RATE * DURATION_MS) / 1000;
/** Bound on concurrent requests: a stalled proxy makes the run fail on latency rather than grow without limit. */
const MAX_IN_FLIGHT = 256;
let cli: CmeshCli;
let client: Pool | undefined;
let port = 0;

interface Outcome {
  status?: number;
  error?: string;
  /** From the request's due time (no coordinated omission). */
  ms: number;
}

async function web(): Promise<ServiceTableRow | undefined> {
  const rows = JSON.parse((await cli.ok(['services', '--json'])).stdout) as ServiceTableRow[];
  return rows.find((s) => s.service === 'web');
}

const waitRoutable = (n: number, timeoutMs: number): Promise<true> =>
  until(`${n} routable web replicas`, timeoutMs, async () => {
    const row = await web();
    return row && row.replicas.filter((r) => r.routable).length === n ? true : undefined;
  }, 200);

/** Request i is sent at t0 + i/rate (later if MAX_IN_FLIGHT are outstanding); every request is bounded by timeouts. */
async function openLoop(onTick: (sent: number) => void): Promise<{ outcomes: Outcome[]; wallMs: number }> {
  const outcomes: Outcome[] = [];
  const inFlight = new Set<Promise<void>>();
  const t0 = performance.now();
  for (let i = 0; i < TOTAL; i++) {
    const due = t0 + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    onTick(i);
    const p = client!
      .request({ path: '/', method: 'GET', headersTimeout: 10_000, bodyTimeout: 10_000 })
      .then(async (res) => {
        await res.body.text();
        outcomes.push({ status: res.statusCode, ms: performance.now() - due });
      })
      .catch((err: unknown) => {
        outcomes.push({ error: (err as { code?: string }).code ?? String(err), ms: performance.now() - due });
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  return { outcomes, wallMs: performance.now() - t0 };
}

function summary(outcomes: Outcome[], wallMs: number): string {
  const by = new Map<string, number>();
  for (const o of outcomes) {
    const k = o.status !== undefined ? String(o.status) : (o.error ?? '?');
    by.set(k, (by.get(k) ?? 0) + 1);
  }
  const ms = outcomes.map((o) => o.ms).sort((a, b) => a - b);
  const q = (p: number): number => Math.round(ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] ?? 0);
  return `${outcomes.length} requests in ${(wallMs / 1000).toFixed(1)} s (${Math.round((outcomes.length * 1000) / wallMs)} req/s): ${[...by].map(([k, v]) => `${k}×${v}`).join(' ')}; p50 ${q(0.5)} ms p99 ${q(0.99)} ms max ${q(1)} ms`;
}

before(async () => {
  await requireDocker();
  const image = await buildFixtureImage('echo');
  cli = await newCmeshCli();
  port = await freePort();
  await cli.writeCompose(
    project,
    `  web:
    image: ${image}
    restart: always
    ports: ["${port}:3000"]
    deploy: { replicas: 3 }
    environment: { SHUTDOWN_GRACE_MS: "2000" }
    stop_grace_period: 3s
    x-cmesh:
      lb: p2c
      health: { path: /healthz, interval: 250ms, timeout: 500ms, rise: 2, fall: 2 }
      timeouts: { connect: 500ms, request: 5s }
    labels:
      ${TEST_LABEL}: "true"
      ${RUN_LABEL}: ${runId}
`,
  );
  client = new Pool(`http://127.0.0.1:${port}`, { connections: MAX_IN_FLIGHT, pipelining: 1, keepAliveTimeout: 4000 });
});

after(async () => {
  await client?.destroy().catch(() => undefined);
  await cli?.teardown(project, runId);
});

test(`failover: steady ${RATE} req/s for ${DURATION_MS / 1000} s, SIGKILL of 1 of 3 replicas → 0 failed of ≥ ${TOTAL}`, { timeout: 180_000 }, async () => {
  await cli.ok(['up', '-d', '--wait', '--timeout', '60']);
  await waitRoutable(3, 20_000);
  const ps = (await cli.ps()).filter((r) => r.service === 'web' && r.state === 'running');
  assert.equal(ps.length, 3);
  const victim = ps[0]!;
  let killed: Promise<string> | undefined;
  const { outcomes, wallMs } = await openLoop((sent) => {
    // A third of the way in: enough steady state before, and 13 s of load on the survivors after.
    if (sent === Math.floor(TOTAL / 3)) killed = run(['kill', '-s', 'KILL', victim.container]);
  });
  await killed;
  const line = summary(outcomes, wallMs);
  console.log(`# failover (SIGKILL web-${victim.replica} after ${Math.floor(TOTAL / 3)} requests): ${line}`);
  assert.ok(killed, 'the replica was killed under load');
  assert.ok(outcomes.length >= 10_000, `≥ 10 000 requests: ${line}`);
  assert.ok(wallMs < DURATION_MS + 5000, `the rate held (${line})`);
  assert.deepEqual(outcomes.filter((o) => o.status !== 200).slice(0, 5), [], line);
  // restart: always — the victim comes back and rejoins after its rise checks.
  await waitRoutable(3, 30_000);
});
