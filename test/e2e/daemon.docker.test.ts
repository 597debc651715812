// The real thing: `cmesh` CLI processes, an auto-started daemon in a temp CMESH_HOME, the real Docker engine.
// A 3-service project goes through up --wait, scale, kill → self-heal, daemon SIGKILL → adoption, 10 racing ups,
// foreground up + Ctrl-C, and down (a foreign canary container must survive; a second down exits 0). Traffic only to 127.0.0.1; never pulls.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ReplicaStatus } from '../../daemon/api/control.ts';
import { type CliResult, type CmeshCli, alive, newCmeshCli, until } from '../helpers/cmesh-cli.ts';
import { buildFixtureImage, engineStartMs, newRunId, requireDocker, ROOT, RUN_LABEL, run, TEST_LABEL, dockerTestFile } from '../helpers/docker.ts';
import { assertReached, expectedReach } from '../helpers/replica-reach.ts';

await dockerTestFile();

const runId = newRunId('daemon');
const project = runId; // lower-case, digits and dashes: a valid project name, unique per run
let image = '';

let cli: CmeshCli;
const cmesh = (args: string[], timeoutMs?: number): Promise<CliResult> => cli.cmesh(args, timeoutMs);
const ok = (args: string[], timeoutMs?: number): Promise<CliResult> => cli.ok(args, timeoutMs);
const ps = (): Promise<ReplicaStatus[]> => cli.ps();

/** Container ids with our project label, straight from the engine (not through cmesh). */
async function engineIds(kind: 'container' | 'network' | 'volume', extra: string[] = []): Promise<string[]> {
  const filter = ['--filter', `label=dev.cmesh.project=${project}`, ...extra];
  const args = kind === 'container' ? ['ps', '-aq', ...filter] : [kind, 'ls', '-q', ...filter];
  return (await run(args)).split('\n').filter(Boolean).sort();
}

const labels = `      ${TEST_LABEL}: "true"\n      ${RUN_LABEL}: ${runId}`;

before(async () => {
  await requireDocker();
  image = await buildFixtureImage('echo');
  cli = await newCmeshCli();
  await cli.writeCompose(
    project,
    `  web:
    image: ${image}
    restart: always
    expose: ["3000"]
    deploy: { replicas: 3 }
    environment: { SHUTDOWN_GRACE_MS: "500" }
    healthcheck: { test: ["CMD", "node", "/app/healthcheck.mjs"], interval: 1s, timeout: 2s, retries: 3 }
    labels:
${labels}
  api:
    image: ${image}
    restart: unless-stopped
    expose: ["3000"]
    environment: { SHUTDOWN_GRACE_MS: "500" }
    labels:
${labels}
  worker:
    image: cmesh/busybox:local
    command: ["sh", "-c", "while true; do echo tick; sleep 1; done"]
    stop_grace_period: 1s
    volumes: ["data:/data"]
    labels:
${labels}
volumes:
  data: {}
`,
  );
});

after(async () => {
  // Best effort in every direction: the test may have failed anywhere.
  await cli?.teardown(project, runId);
});

test('up -d --wait auto-starts the daemon; every replica answers on its own endpoint (its address, or a loopback port)', async () => {
  const up = await ok(['up', '-d', '--wait', '--timeout', '60']);
  assert.match(up.stderr, /started the daemon \(pid \d+/);
  const rows = await ps();
  assert.deepEqual(
    ['api', 'web', 'worker'].map((s) => rows.filter((r) => r.service === s && r.state === 'running').length),
    [1, 3, 1],
  );
  const reach = await expectedReach();
  for (const r of rows.filter((x) => x.service !== 'worker')) {
    assertReached(reach, r.endpoints, r.name);
    const [endpoint] = r.endpoints;
    // A direct endpoint is the replica's address on this project's own network.
    const res = await fetch(`http://${endpoint!.host}:${endpoint!.hostPort}/`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { hostname: string };
    assert.equal(res.status, 200);
    assert.ok(r.container.startsWith(body.hostname), `${r.name} answered itself (${body.hostname})`);
  }
  assert.ok(rows.filter((r) => r.service === 'web').every((r) => r.health === 'healthy'));
  const table = await ok(['ps']);
  assert.match(table.stdout, /^NAME +SERVICE +STATE +HEALTH +ENDPOINTS +RESTARTS$/m);
});

test('logs prefix lines with service-replica', async () => {
  const logs = await ok(['logs', '--tail', '2', 'worker']);
  assert.match(logs.stdout, /^worker-1 \| tick$/m);
});

test('scale web=5 then web=1', async () => {
  await ok(['scale', 'web=5']);
  assert.equal((await ps()).filter((r) => r.service === 'web' && r.state === 'running').length, 5);
  await ok(['scale', 'web=1']);
  const web = (await ps()).filter((r) => r.service === 'web');
  assert.deepEqual(web.map((r) => r.replica), [1]);
});

test('docker kill of a replica: running again within 2 s (more on a slower engine)', async () => {
  // The 2 s was set where the engine started a container in ~0.3 s. On a slower engine its kill, die event and start
  // all take longer (measured: start 0.6 s, kill → running 2.2–2.5 s with the same cmesh), none of it cmesh's time.
  const bound = 2000 + 3 * Math.max(0, (await engineStartMs(runId)) - 300);
  const [victim] = (await ps()).filter((r) => r.service === 'web');
  const started = Date.now();
  await run(['kill', victim!.container]);
  const back = await until('web-1 running again', 10_000, async () => {
    const ids = await engineIds('container', ['--filter', 'label=dev.cmesh.service=web', '--filter', 'status=running']);
    return ids.length === 1 ? ids : undefined;
  }, 25);
  const ms = Date.now() - started;
  console.log(`# kill → running again in ${ms} ms (${back[0] === victim!.container.slice(0, 12) ? 'restarted in place' : 'replaced'})`);
  assert.ok(ms < bound, `took ${ms} ms (bound ${bound} ms)`);
});

test('daemon SIGKILL + restart adopts the same containers, no duplicates', async () => {
  // Replicas (the gateways of the east-west mesh carry no service label: they are adopted too, tested in east-west*).
  const replicas = () => engineIds('container', ['--filter', 'label=dev.cmesh.service']);
  const gateways = await engineIds('container', ['--filter', 'label=dev.cmesh.role=gateway']);
  const before = await replicas();
  const pid = (await cli.daemonPid())!;
  process.kill(pid, 'SIGKILL');
  await until('the daemon to die', 5000, async () => (alive(pid) ? undefined : true));
  const rows = await ps(); // auto-starts a fresh daemon
  assert.notEqual(await cli.daemonPid(), pid);
  assert.deepEqual(rows.map((r) => r.container.slice(0, 12)).sort(), before);
  // Let the new daemon's loop run a few passes: it must adopt, not recreate.
  await new Promise((r) => setTimeout(r, 2000));
  assert.deepEqual(await replicas(), before);
  assert.deepEqual(await engineIds('container', ['--filter', 'label=dev.cmesh.role=gateway']), gateways, 'the same gateways, adopted');
});

test('10 concurrent ups end with one consistent set', async () => {
  const results = await Promise.all(Array.from({ length: 10 }, () => cmesh(['up', '-d'])));
  assert.deepEqual(results.map((r) => r.code), Array(10).fill(0), results.map((r) => r.stderr).join('\n'));
  const rows = await ps();
  const names = rows.map((r) => r.name);
  assert.equal(new Set(names).size, names.length, 'no duplicate names');
  // web keeps its scale override (1): up without --scale does not reset it.
  assert.deepEqual(rows.map((r) => `${r.service}-${r.replica}`).sort(), ['api-1', 'web-1', 'worker-1']);
  assert.equal((await engineIds('container', ['--filter', 'label=dev.cmesh.service'])).length, 3);
});

test('foreground up streams logs; Ctrl-C stops (not removes) the services', async () => {
  const child = spawn(process.execPath, [join(ROOT, 'bin/cmesh.js'), 'up', 'worker'], { cwd: cli.work, env: cli.env(), timeout: 60_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  await until('a worker log line', 15_000, async () => (/worker-1 \| tick/.test(stdout) ? true : undefined));
  child.kill('SIGINT');
  assert.equal(await closed, 0, stderr);
  assert.match(stderr, /Gracefully stopping\.\.\. \(press Ctrl\+C again to force\)/);
  const worker = (await ps()).find((r) => r.service === 'worker');
  assert.equal(worker?.state, 'exited');
  await ok(['start', 'worker']);
});

test('down removes every container, network and volume of the project; a foreign canary survives', async () => {
  const canary = await run(['run', '-d', '--label', `${TEST_LABEL}=true`, '--label', `${RUN_LABEL}=${runId}`, 'cmesh/busybox:local', 'sleep', '300']);
  try {
    assert.ok((await engineIds('volume')).length > 0, 'the named volume exists before down');
    await ok(['down', '-v']);
    assert.deepEqual(await engineIds('container'), []);
    assert.deepEqual(await engineIds('network'), []);
    assert.deepEqual(await engineIds('volume'), []);
    assert.equal(await run(['inspect', '-f', '{{.State.Running}}', canary]), 'true');
    const ls = JSON.parse((await ok(['ls', '--json'])).stdout) as { name: string }[];
    assert.ok(!ls.some((p) => p.name === project));
    // Idempotent, as Compose: a second down finds nothing, says so and exits 0 (CI clean-up steps always run it).
    const again = await ok(['down', '-v']);
    assert.match(again.stderr, /no resource found to remove for project/);
    assert.deepEqual(await engineIds('container'), []);
  } finally {
    await run(['rm', '-f', canary]);
  }
});
