// The mesh end to end: the real CLI and daemon, the real engine, 3 echo replicas behind one published port owned by
// cmesh's proxy. Distribution, weights, SIGKILL failover under load (0 failed requests), pause → ejection → rejoin,
// scale under load, down under load, and a taken port. Traffic only to 127.0.0.1; every load loop bounded.

import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Pool } from 'undici';
import type { ServiceTableRow } from '../../daemon/api/control.ts';
import { type CmeshCli, projectContainers, sleep, until } from '../helpers/cmesh-cli.ts';
import { newRunId, run, dockerTestFile } from '../helpers/docker.ts';
import { type EchoProject, echoProject } from '../helpers/echo-project.ts';
import { failed, get as getWith, loopbackPool, type Outcome, type PacedLoadOptions, pacedLoad, summary } from '../helpers/load.ts';
import { assertReached, expectedReach } from '../helpers/replica-reach.ts';

await dockerTestFile();

const runId = newRunId('mesh');
const project = runId;
const REQUEST_TIMEOUT_MS = 2000;
let p: EchoProject | undefined;
let cli: CmeshCli;
let port = 0;
let client: Pool | undefined;

async function services(): Promise<ServiceTableRow[]> {
  return JSON.parse((await cli.ok(['services', '--json'])).stdout) as ServiceTableRow[];
}

async function web(): Promise<ServiceTableRow> {
  const row = (await services()).find((s) => s.service === 'web');
  assert.ok(row, 'web is in the service table');
  return row;
}

async function waitReady(n: number, timeoutMs = 20_000): Promise<ServiceTableRow> {
  return until(`${n} routable web replicas`, timeoutMs, async () => {
    const row = await web();
    return row.ready === n && row.replicas.filter((r) => r.routable).length === n ? row : undefined;
  }, 200);
}

// The shared helpers, bound to this file's pool.
const get = (path = '/'): Promise<Outcome> => getWith(client!, path);
const load = (o: PacedLoadOptions): Promise<Outcome[]> => pacedLoad(client!, o);
/** Waits until the load has `n` answers: the change under test happens under load however slow the host. */
const answered = (seen: Outcome[], n: number): Promise<true> => until(`${n} answers`, 20_000, async () => (seen.length >= n ? true : undefined), 20);

async function webContainers(): Promise<{ id: string; replica: number }[]> {
  return (await cli.ps()).filter((r) => r.service === 'web' && r.state === 'running').map((r) => ({ id: r.container, replica: r.replica }));
}

before(async () => {
  p = await echoProject({
    runId,
    restart: 'always',
    replicas: 3,
    environment: { SHUTDOWN_GRACE_MS: '3000' },
    stopGracePeriod: '4s',
    lb: 'round-robin',
    health: { interval: '250ms', timeout: '500ms', rise: 2, fall: 2 },
    timeouts: { connect: '500ms', request: `${REQUEST_TIMEOUT_MS}ms` },
  });
  ({ cli, port } = p);
  client = loopbackPool(port, 16);
});

after(async () => {
  await client?.destroy().catch(() => undefined);
  await p?.teardown();
});

test('up: the proxy owns the published port, the containers do not; all 3 replicas answer round-robin', async () => {
  await cli.ok(['up', '-d', '--wait', '--timeout', '60']);
  // The host port is the proxy's: no container publishes it (they are reached at their own addresses, or on
  // engine-assigned loopback ports where the host cannot route to the engine's networks).
  const reach = await expectedReach();
  for (const r of (await cli.ps()).filter((x) => x.service === 'web')) {
    assertReached(reach, r.endpoints, r.name);
    assert.ok(r.endpoints.every((e) => e.direct === true || e.hostPort !== port), `${r.name} does not publish ${port}`);
  }
  const row = await waitReady(3);
  assert.deepEqual(row.publishedPorts, [{ published: port, target: 3000, hostIp: '127.0.0.1', protocol: 'tcp' }]);
  assert.equal(row.strategy, 'round-robin');
  const outcomes: Outcome[] = [];
  for (let i = 0; i < 300; i++) outcomes.push(await get());
  assert.deepEqual(failed(outcomes), []);
  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(o.servedBy!, (counts.get(o.servedBy!) ?? 0) + 1);
  console.log(`# round-robin over 300: ${[...counts.values()].join('/')}`);
  assert.equal(counts.size, 3);
  for (const n of counts.values()) assert.ok(Math.abs(n - 100) <= 3, `round-robin share ${n}/300`);
  const table = await cli.ok(['services']);
  assert.match(table.stdout, /^SERVICE +PORTS +LB +READY +ENDPOINT +HEALTH/m);
  // Meshed east-west by default too: PORTS also lists the port callers reach by name.
  assert.match(table.stdout, new RegExp(`^web +127\\.0\\.0\\.1:${port}->3000, ew:3000/http +round-robin +3/3`, 'm'));
});

test('lb weighted with weights [1,1,2]: ~25/25/50 %', async () => {
  await p!.writeCompose({ lb: 'weighted', mesh: ['weights: [1, 1, 2]'] });
  await cli.ok(['up', '-d', '--wait', '--timeout', '60']);
  await until('strategy weighted', 10_000, async () => ((await web()).strategy === 'weighted' ? true : undefined), 200);
  await waitReady(3);
  const byReplica = new Map((await webContainers()).map((c) => [c.id.slice(0, 12), c.replica]));
  const outcomes = await load({ rate: 1000, concurrency: 8, maxMs: 10_000, maxCount: 2000 });
  assert.deepEqual(failed(outcomes), []);
  const share = [0, 0, 0];
  for (const o of outcomes) share[byReplica.get(o.servedBy!)! - 1]! += 1 / outcomes.length;
  console.log(`# weighted [1,1,2] over ${outcomes.length}: ${share.map((s) => `${(s * 100).toFixed(1)}%`).join('/')}`);
  for (const [i, want] of [0.25, 0.25, 0.5].entries()) assert.ok(Math.abs(share[i]! - want) <= 0.05, `replica ${i + 1}: ${share[i]}`);
  await p!.writeCompose(); // back to the project's own options: round-robin
  await cli.ok(['up', '-d', '--wait', '--timeout', '60']);
});

test('failover: SIGKILL of one of 3 replicas under ~400 req/s → 0 failed requests', async () => {
  await waitReady(3);
  const [victim] = await webContainers();
  // Counted, not timed: on a loaded host 400 req/s is a ceiling, so the kill waits for 800 answers and the load runs
  // 2200 more after it (maxMs only bounds a host too slow to get there).
  const seen: Outcome[] = [];
  const pending = load({ rate: 400, concurrency: 16, maxMs: 30_000, maxCount: 3000, into: seen });
  await answered(seen, 800);
  const atKill = seen.length;
  await run(['kill', '-s', 'KILL', victim!.id]);
  const outcomes = await pending;
  console.log(`# failover (SIGKILL web-${victim!.replica}): ${summary(outcomes)}`);
  assert.ok(outcomes.length - atKill >= 1500, `the load ran on after the kill: ${outcomes.length - atKill} answers`);
  assert.deepEqual(failed(outcomes).slice(0, 5), [], summary(outcomes));
  // restart: always — it comes back and rejoins after its rise checks.
  await waitReady(3, 30_000);
});

test('docker pause: no request outlives the request timeout, ejected within 3 s, rejoins after unpause', async () => {
  await waitReady(3);
  const victim = (await webContainers())[1]!;
  const stop = new AbortController();
  const pending = load({ rate: 40, concurrency: 4, maxMs: 15_000, maxCount: 1000, stop: stop.signal });
  try {
    await sleep(1000);
    const paused = Date.now();
    await run(['pause', victim.id]);
    await until('the paused replica ejected', 3000, async () => {
      const r = (await web()).replicas.find((x) => x.replica === victim.replica);
      return r && !r.routable ? true : undefined;
    }, 100);
    console.log(`# pause → out of rotation in ${Date.now() - paused} ms`);
    await sleep(1500);
  } finally {
    await run(['unpause', victim.id]).catch(() => undefined);
  }
  const unpaused = Date.now();
  await waitReady(3, 15_000);
  console.log(`# unpause → back in rotation in ${Date.now() - unpaused} ms`);
  stop.abort();
  const outcomes = await pending;
  console.log(`# pause under load: ${summary(outcomes)}`);
  const slow = outcomes.filter((o) => o.ms > REQUEST_TIMEOUT_MS + 1000);
  assert.deepEqual(slow, [], 'no request waited past the request timeout');
  assert.deepEqual(failed(outcomes).filter((o) => o.status !== 504), [], summary(outcomes));
});

test('scale 3 → 1 → 3 under light load: 0 failed requests', async () => {
  await waitReady(3);
  const stop = new AbortController();
  const seen: Outcome[] = [];
  const pending = load({ rate: 100, concurrency: 8, maxMs: 60_000, maxCount: 6000, stop: stop.signal, into: seen });
  try {
    await answered(seen, 50);
    await cli.ok(['scale', 'web=1']);
    await until('1 web replica', 15_000, async () => ((await webContainers()).length === 1 ? true : undefined), 200);
    await sleep(500);
    await cli.ok(['scale', 'web=3']);
    await waitReady(3, 20_000);
    await sleep(500);
  } finally {
    stop.abort();
  }
  const outcomes = await pending;
  console.log(`# scale 3→1→3: ${summary(outcomes)}`);
  assert.deepEqual(failed(outcomes).slice(0, 5), [], summary(outcomes));
});

test('restart under light load is rolling: one replica at a time, 0 failed requests, same containers', async () => {
  await waitReady(3);
  const ids = async () => (await webContainers()).map((c) => c.id).sort();
  const before = await ids();
  const stop = new AbortController();
  const seen: Outcome[] = [];
  const pending = load({ rate: 100, concurrency: 8, maxMs: 60_000, maxCount: 6000, stop: stop.signal, into: seen });
  try {
    await answered(seen, 50);
    await cli.ok(['restart', 'web']);
    await waitReady(3, 20_000);
    await sleep(300);
  } finally {
    stop.abort();
  }
  const outcomes = await pending;
  console.log(`# rolling restart: ${summary(outcomes)}`);
  assert.deepEqual(await ids(), before, 'restart keeps the same containers');
  assert.deepEqual(failed(outcomes).slice(0, 5), [], summary(outcomes));
});

test('down under load: clean 503s or refused connections once the listener closes, no hang', async () => {
  await waitReady(3);
  const stop = new AbortController();
  const seen: Outcome[] = [];
  const pending = load({ rate: 100, concurrency: 8, maxMs: 40_000, maxCount: 4000, stop: stop.signal, into: seen });
  await answered(seen, 50);
  const t0 = Date.now();
  await cli.ok(['down'], 60_000);
  console.log(`# down took ${Date.now() - t0} ms`);
  await sleep(500);
  stop.abort();
  const outcomes = await pending;
  console.log(`# down under load: ${summary(outcomes)}`);
  const clean = new Set(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET']);
  const unclean = outcomes.filter((o) => !(o.status === 200 || o.status === 503 || (o.error !== undefined && clean.has(o.error))));
  assert.deepEqual(unclean.slice(0, 5), []);
  assert.ok(outcomes.every((o) => o.ms < 10_000), 'no request hung');
  const after = await get();
  assert.equal(after.error, 'ECONNREFUSED', 'the port is released');
  assert.deepEqual(await projectContainers(project), []);
});

test('a published port already taken: up fails with CMESH_E_PORT_TAKEN naming it, no container left', async () => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const taken = (holder.address() as net.AddressInfo).port;
  const other = `${project}-taken`;
  try {
    await p!.writeCompose({ project: other, port: taken }, 'taken.yaml');
    const r = await cli.cmesh(['-f', join(cli.work, 'taken.yaml'), 'up', '-d', '--wait', '--timeout', '30']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /CMESH_E_PORT_TAKEN/);
    assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${taken}`));
    assert.deepEqual(await projectContainers(other), []);
  } finally {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
    await cli.cmesh(['-p', other, 'down'], 30_000).catch(() => undefined);
  }
});
