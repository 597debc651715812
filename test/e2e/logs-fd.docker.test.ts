// Issue 7 acceptance: a `logs -f` + restart loop (5 minutes by default, CMESH_FD_SOAK_MS to change) leaves the daemon
// with no more open file descriptors than it had after a warm-up round. Each round: start `cmesh logs -f`, restart a
// replica, read the lines it brings, kill the client (SIGKILL: the daemon must notice the socket going away).
// scripts/run-tests.mjs runs this file beside the serial docker files (its `soaks`), so it must stay that kind of
// test: no host port bound, nothing touched but its own daemon and project, nothing judged but its own daemon.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CmeshCli, newCmeshCli, sleep, until } from '../helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, requireDocker, ROOT, RUN_LABEL, run, TEST_LABEL, dockerTestFile } from '../helpers/docker.ts';

await dockerTestFile();

const SOAK_MS = Number(process.env.CMESH_FD_SOAK_MS ?? 300_000) || 300_000;
/** Bounded in count as well as time: a round takes a few seconds, so this cap is never the one that stops a soak. */
const MAX_ROUNDS = 500;
const MAX_GROWTH = 5;

const runId = newRunId('logsfd');
const project = runId;
let cli: CmeshCli;
let clients: ChildProcess[] = [];
const containers = new Map<number, string>();

async function openFds(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/** Several samples a little apart, minimum taken: a probe or reconcile in flight holds a socket for a moment. */
async function settledFds(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(await openFds(pid));
    await sleep(400);
  }
  return Math.min(...samples);
}

before(async () => {
  await requireDocker();
  const image = await buildFixtureImage('echo');
  cli = await newCmeshCli();
  await cli.writeCompose(
    project,
    `  web:
    image: ${image}
    expose: ["3000"]
    deploy: { replicas: 2 }
    environment: { SHUTDOWN_GRACE_MS: "200" }
    stop_grace_period: 1s
    labels:
      ${TEST_LABEL}: "true"
      ${RUN_LABEL}: ${runId}
`,
  );
});

after(async () => {
  for (const c of clients) if (c.exitCode === null) c.kill('SIGKILL');
  await cli?.teardown(project, runId);
});

/** One round: follow, restart one replica, see its start line, kill the client. */
async function round(replica: number): Promise<void> {
  let out = '';
  const client = spawn(process.execPath, [join(ROOT, 'bin/cmesh.js'), 'logs', '-f', '--tail', '5'], { cwd: cli.work, env: cli.env() });
  clients.push(client);
  client.stdout!.on('data', (d) => (out += d));
  try {
    await until('the first log lines', 20_000, async () => (out.includes(' | ') ? true : undefined), 50);
    const before = out.split('\n').filter((l) => l.startsWith(`web-${replica} | `) && l.includes('listening on')).length;
    // `docker restart` of one replica: the same container stops (its log stream ends) and starts (a new one attaches).
    await run(['restart', '-t', '1', containers.get(replica)!], { timeoutMs: 30_000 });
    await until(`web-${replica} to log its restart`, 30_000, async () => {
      const n = out.split('\n').filter((l) => l.startsWith(`web-${replica} | `) && l.includes('listening on')).length;
      return n > before ? true : undefined;
    }, 50);
  } finally {
    client.kill('SIGKILL');
    await until('the logs client to exit', 10_000, async () => (client.exitCode !== null || client.signalCode !== null ? true : undefined), 20).catch(() => undefined);
    clients = clients.filter((c) => c !== client);
  }
}

test(`daemon fds do not grow over a ${Math.round(SOAK_MS / 1000)} s logs -f + restart loop`, { timeout: SOAK_MS + 240_000 }, async () => {
  await cli.ok(['up', '-d', '--wait', '--timeout', '60'], 90_000);
  const pid = await cli.daemonPid();
  assert.ok(pid, 'daemon pid');
  for (const r of await cli.ps()) containers.set(r.replica, r.container);
  assert.equal(containers.size, 2, 'two replicas');
  // Warm-up: lazily created pools, the engine event stream, module loading.
  await round(1);
  await round(2);
  const start = await settledFds(pid);
  const deadline = Date.now() + SOAK_MS;
  let rounds = 0;
  while (Date.now() < deadline && rounds < MAX_ROUNDS) {
    await round((rounds % 2) + 1);
    rounds++;
  }
  await sleep(1000);
  const end = await settledFds(pid);
  console.log(`logs fd soak: ${rounds} rounds in ${Math.round(SOAK_MS / 1000)} s; daemon fds ${start} → ${end} (growth ${end - start})`);
  assert.ok(rounds >= 2, `enough rounds (${rounds})`);
  assert.ok(end - start <= MAX_GROWTH, `daemon fds grew from ${start} to ${end} over ${rounds} rounds`);
});
