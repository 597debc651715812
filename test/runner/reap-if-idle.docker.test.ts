// scripts/reap.sh --if-idle, which scripts/run-tests.mjs runs before the docker tier: a test project's containers and
// network left by a run that is gone — and its east-west gateway, which carries only cmesh's labels, and its daemon's
// shared gateway on that network, which carries neither — are removed when no docker test process holds the engine
// lock, and kept while one does (a live run beside ours must lose nothing); a cmesh project with no test-labelled
// object (a user's) is never touched, its shared gateway included. The lock is a private directory's, held by a flock(1) child the way
// test/helpers/engine-lock.ts holds it, and the reap is scoped to this file's own project, so other runs on this engine
// are never touched. Everything this file creates is removed, also on failure.

import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { until } from '../helpers/cmesh-cli.ts';
import { dockerTestFile, ensureBaseImages, newRunId, ROOT, run, testLabels } from '../helpers/docker.ts';

await dockerTestFile();
const exec = promisify(execFile);
const runId = newRunId('reapidle');
const lockDir = mkdtempSync(join(tmpdir(), 'cmesh-reap-lock-'));
const lockFile = join(lockDir, 'cmesh-e2e-engine.lock');
let holder: ChildProcess | undefined;
/** flock(1) hands the lock's descriptor to its command: the whole group goes, or `sleep` keeps the lock. */
const killHolder = () => {
  if (holder?.pid && holder.exitCode === null) {
    try {
      process.kill(-holder.pid, 'SIGKILL');
    } catch {}
  }
};

after(async () => {
  killHolder();
  for (const name of [`${runId}-web-1`, `${runId}-cmesh-gateway`, `${user}-cmesh-gateway`, `${runId}-shared`, `${user}-shared`]) await run(['rm', '-f', name]).catch(() => undefined);
  for (const name of [`${runId}_default`, `${user}_default`]) await run(['network', 'rm', name]).catch(() => undefined);
  rmSync(lockDir, { recursive: true, force: true });
});

const flags = (labels: [string, string][]) => labels.flatMap(([k, v]) => ['--label', `${k}=${v}`]);
const labels = flags([...Object.entries(testLabels(runId)), ['dev.cmesh.project', runId]]);
/** What cmesh itself puts on a project's gateway container and networks: no test label. */
const cmeshOnly = (project: string) => flags([['dev.cmesh.managed', 'true'], ['dev.cmesh.project', project], ['dev.cmesh.role', 'gateway']]);
/** What cmesh puts on a daemon's shared gateway (daemon/gateway-shared.ts): neither a project nor a test label. */
const sharedOnly = (home: string) => flags([['dev.cmesh.managed', 'true'], ['dev.cmesh.role', 'gateway'], ['dev.cmesh.gateway-shared', home]]);
/** A user's cmesh project beside ours: nothing of it is test-labelled, so no reap may touch it. */
const user = `${runId}-user`;
const exists = (kind: 'container' | 'network', name: string) => run([kind, 'inspect', name]).then(() => true, () => false);
const reap = async (env: NodeJS.ProcessEnv, ...args: string[]) =>
  (await exec('bash', [join(ROOT, 'scripts/reap.sh'), ...args], { env: { ...process.env, ...env }, timeout: 120_000 })).stdout;
/** True while some process holds the lock file (shared or exclusive): an exclusive try is refused. */
const lockHeld = () => exec('flock', ['-n', '-x', lockFile, 'true']).then(() => false, () => true);

test('reap.sh --if-idle keeps a live run’s objects and removes them once no run holds the engine', { timeout: 180_000 }, async () => {
  await ensureBaseImages();
  await run(['network', 'create', ...labels, `${runId}_default`]);
  // Created, never started: what a run killed between create and start leaves; `Exited (255)` ones reap the same.
  await run(['create', '--name', `${runId}-web-1`, '--network', `${runId}_default`, ...labels, 'cmesh/busybox:local', 'sleep', '600']);
  // The project's gateway, running (as a killed run's is), with cmesh's labels only.
  await run(['run', '-d', '--name', `${runId}-cmesh-gateway`, '--network', `${runId}_default`, ...cmeshOnly(runId), 'cmesh/busybox:local', 'sleep', '600']);
  // A test daemon's shared gateway, on the project's network (a killed run leaves it there, running).
  await run(['run', '-d', '--name', `${runId}-shared`, '--network', `${runId}_default`, ...sharedOnly(runId), 'cmesh/busybox:local', 'sleep', '600']);
  await run(['network', 'create', ...cmeshOnly(user), `${user}_default`]);
  await run(['create', '--name', `${user}-cmesh-gateway`, '--network', `${user}_default`, ...cmeshOnly(user), 'cmesh/busybox:local', 'sleep', '600']);
  await run(['run', '-d', '--name', `${user}-shared`, '--network', `${user}_default`, ...sharedOnly(user), 'cmesh/busybox:local', 'sleep', '600']);

  // This file's own process holds the host's real engine lock shared (dockerTestFile): the unscoped default must skip.
  const live = await reap({}, '--if-idle', runId);
  assert.match(live, /a docker test run holds the engine/, live);
  assert.equal(await exists('container', `${runId}-web-1`), true, 'kept while this file runs');

  // A private lock, held shared by another process as a live test file holds it.
  holder = spawn('flock', ['-s', lockFile, 'sleep', '120'], { stdio: 'ignore', detached: true });
  await until('the holder to take the lock', 10_000, async () => ((await lockHeld()) ? true : undefined), 50);
  const held = await reap({ CMESH_TEST_ENGINE_LOCK_DIR: lockDir }, '--if-idle', runId);
  assert.match(held, /holds the engine/, held);
  assert.equal(await exists('container', `${runId}-web-1`), true, 'kept while a run holds the lock');
  assert.equal(await exists('network', `${runId}_default`), true, 'network kept while a run holds the lock');
  assert.equal(await exists('container', `${runId}-cmesh-gateway`), true, 'gateway kept while a run holds the lock');
  assert.equal(await exists('container', `${runId}-shared`), true, 'shared gateway kept while a run holds the lock');

  killHolder();
  await until('the lock to be free', 10_000, async () => ((await lockHeld()) ? undefined : true), 50);
  const idle = await reap({ CMESH_TEST_ENGINE_LOCK_DIR: lockDir }, '--if-idle', runId);
  assert.match(idle, /containers: removed 2 of 2/, idle);
  assert.match(idle, /networks: removed 1 of 1/, idle);
  assert.equal(await exists('container', `${runId}-web-1`), false, idle);
  assert.equal(await exists('container', `${runId}-cmesh-gateway`), false, `the test project's gateway goes too:\n${idle}`);
  assert.equal(await exists('network', `${runId}_default`), false, `the shared gateway left it, so it went:\n${idle}`);
  assert.match(idle, new RegExp(`shared gateway \\w+: left ${runId}_default, then removed`), idle);
  assert.equal(await exists('container', `${runId}-shared`), false, `on no network any more, the shared gateway goes:\n${idle}`);

  // An unscoped idle reap (every test project on the engine) leaves the user's project alone: a dry run names it not.
  const dry = await reap({ CMESH_TEST_ENGINE_LOCK_DIR: lockDir }, '--if-idle', '--dry-run');
  for (const name of [`${user}-cmesh-gateway`, `${user}-shared`, `${user}_default`]) {
    const id = (await run([name.endsWith('_default') ? 'network' : 'container', 'inspect', '--format', '{{.Id}}', name])).slice(0, 12);
    assert.ok(!dry.includes(id), `the user's ${name} is listed:\n${dry}`);
  }
  assert.equal((await run(['inspect', '--format', '{{.State.Running}}', `${user}-shared`])).trim(), 'true', 'a user’s shared gateway runs on');
});
