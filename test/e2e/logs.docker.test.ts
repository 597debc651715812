// `cmesh logs -f` of a 2-replica echo service keeps streaming through a `cmesh restart`, a `docker kill` (the
// supervisor restarts the replica) and a rollout (`up` with a changed env): every new replica's start line arrives with
// its `web-n | ` prefix, nothing is repeated, and the same client still follows afterwards.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CmeshCli, newCmeshCli, until } from '../helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, requireDocker, ROOT, RUN_LABEL, run, TEST_LABEL, dockerTestFile } from '../helpers/docker.ts';
import { freePort } from '../helpers/free-port.ts';

await dockerTestFile();

const runId = newRunId('logs');
const project = runId;
let cli: CmeshCli;
let image = '';
let port = 0;
let follower: ChildProcess | undefined;
let out = '';

const writeCompose = (version: string): Promise<void> =>
  writeFile(
    join(cli.work, 'compose.yaml'),
    `name: ${project}
services:
  web:
    image: ${image}
    ports: ["${port}:3000"]
    deploy: { replicas: 2 }
    restart: unless-stopped
    environment: { VERSION: "${version}", LOG_REQUESTS: "1", SHUTDOWN_GRACE_MS: "500" }
    stop_grace_period: 2s
    x-cmesh:
      health: { path: /healthz, interval: 500ms, timeout: 500ms, rise: 1, fall: 2 }
    labels:
      ${TEST_LABEL}: "true"
      ${RUN_LABEL}: ${runId}
`,
  );

/** The echo server's start line of replica n (any version unless given), as printed by `cmesh logs`. */
const startLines = (replica: number, version?: string): string[] =>
  out.split('\n').filter((l) => l.startsWith(`web-${replica} | `) && l.includes('listening on') && (version === undefined || l.includes(`(version ${version},`)));

const waitStarts = (what: string, replica: number, count: number, version?: string): Promise<true> =>
  until(what, 45_000, async () => (startLines(replica, version).length >= count ? true : undefined), 100).catch((err: Error) => {
    throw new Error(`${err.message}; logs -f printed:\n${out.slice(-3000)}`);
  });

before(async () => {
  await requireDocker();
  image = await buildFixtureImage('echo');
  cli = await newCmeshCli();
  port = await freePort();
  await writeCompose('v1');
});

after(async () => {
  if (follower && follower.exitCode === null) follower.kill('SIGKILL');
  await cli?.teardown(project, runId);
});

test('logs -f follows through restart, docker kill and a rollout', { timeout: 180_000 }, async () => {
  await cli.ok(['up', '-d', '--wait', '--timeout', '60'], 90_000);
  follower = spawn(process.execPath, [join(ROOT, 'bin/cmesh.js'), 'logs', '-f'], { cwd: cli.work, env: cli.env() });
  follower.stdout!.on('data', (d) => (out += d));
  let err = '';
  follower.stderr!.on('data', (d) => (err += d));
  await waitStarts('web-1 start line', 1, 1, 'v1');
  await waitStarts('web-2 start line', 2, 1, 'v1');

  // 1. `cmesh restart`: the same containers stop and start again; their streams resume.
  await cli.ok(['restart', 'web'], 60_000);
  await waitStarts('web-1 restarted', 1, 2);
  await waitStarts('web-2 restarted', 2, 2);

  // 2. `docker kill`: the supervisor brings the replica back (restart: unless-stopped).
  const web1 = (await cli.ps()).find((r) => r.service === 'web' && r.replica === 1);
  assert.ok(web1, 'web-1 listed');
  await run(['kill', web1.container]);
  await waitStarts('web-1 back after docker kill', 1, 3);

  // 3. A rollout: new containers (new ids) with VERSION=v2 replace both replicas, start-first.
  await writeCompose('v2');
  await cli.ok(['up', '-d', '--wait', '--timeout', '60'], 90_000);
  await waitStarts('web-1 on v2', 1, 1, 'v2');
  await waitStarts('web-2 on v2', 2, 1, 'v2');

  // 4. Still following: requests served by both new replicas show up under their prefixes.
  const marker = `m${Date.now()}`;
  const answers = new Map<string, number>();
  try {
    await until('request lines from both replicas', 30_000, async () => {
      const r = await fetch(`http://127.0.0.1:${port}/status/200?${marker}`, { signal: AbortSignal.timeout(2000) }).catch((e: Error) => e);
      const key = r instanceof Error ? r.message : `${r.status} ${r.headers.get('x-cmesh-error') ?? ''}`;
      answers.set(key, (answers.get(key) ?? 0) + 1);
      if (!(r instanceof Error)) await r.text();
      const lines = out.split('\n').filter((l) => l.includes(`/status/200?${marker} 200`));
      return [1, 2].every((n) => lines.some((l) => l.startsWith(`web-${n} | `))) ? true : undefined;
    }, 100);
  } catch (e) {
    // Say which side lost track: the proxy (answers, service table) or the log follower (its last lines).
    const services = await cli.cmesh(['services', '--json']);
    const lines = out.split('\n');
    assert.fail(`${(e as Error).message}\nanswers: ${JSON.stringify([...answers])}\nservices: ${services.stdout}\nps: ${JSON.stringify(await cli.ps())}\nfollower stderr: ${err}\nlast log lines:\n${lines.slice(-40).join('\n')}`);
  }
  assert.equal(follower.exitCode, null, `logs -f still running (stderr: ${err})`);

  // Every start line carries a pid and a timestamp: a resumed stream that repeated lines would show duplicates.
  const starts = out.split('\n').filter((l) => l.includes('listening on'));
  assert.equal(new Set(starts).size, starts.length, `no repeated lines:\n${starts.join('\n')}`);
  console.log(`logs e2e: ${out.split('\n').length} lines, start lines web-1 ${startLines(1).length}, web-2 ${startLines(2).length}`);
});
