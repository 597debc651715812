// `cmesh build` and `cmesh up --watch` through the real binary: a good build exits 0 and labels its image, a failing
// RUN exits 5 naming the step; `up --watch` serves v1 through the proxy, rolls an edit out, and stops on Ctrl-C.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CmeshCli, until } from '../helpers/cmesh-cli.ts';
import { newRunId, ROOT, RUN_LABEL, run, TEST_LABEL, dockerTestFile } from '../helpers/docker.ts';
import { type EchoProject, echoProject, serviceLabels } from '../helpers/echo-project.ts';
import { writeWatchableEcho } from '../helpers/watchable-echo.ts';

await dockerTestFile();

const runId = newRunId('buildcli');
const project = runId;
let p: EchoProject | undefined;
let cli: CmeshCli;
let port = 0;
let upWatch: ChildProcess | undefined;

const buildLabels = `labels: { ${TEST_LABEL}: "true", ${RUN_LABEL}: ${runId} }`;

before(async () => {
  // web is the watchable echo app, built from ./app; good and bad exist for `cmesh build` only (profile builds).
  p = await echoProject({
    runId,
    build: `{ context: ./app, ${buildLabels} }`,
    environment: { SHUTDOWN_GRACE_MS: '500' },
    stopGracePeriod: '2s',
    health: { interval: '250ms', timeout: '500ms', rise: 1, fall: 2 },
    extraServices: `  good:
    build: { context: ./good, ${buildLabels} }
    profiles: [builds]
${serviceLabels(runId)}  bad:
    build: { context: ./bad, ${buildLabels} }
    profiles: [builds]
${serviceLabels(runId)}`,
  });
  ({ cli, port } = p);
  for (const d of ['good', 'bad', 'app']) await mkdir(join(cli.work, d), { recursive: true });
  await writeFile(join(cli.work, 'good', 'Dockerfile'), 'FROM cmesh/busybox:local\nRUN echo built > /built\nCMD ["cat", "/built"]\n');
  await writeFile(join(cli.work, 'bad', 'Dockerfile'), 'FROM cmesh/busybox:local\nRUN echo about-to-fail && exit 3\n');
  const app = join(cli.work, 'app');
  await writeWatchableEcho(app, 'v1');
});

after(async () => {
  if (upWatch && upWatch.exitCode === null) upWatch.kill('SIGKILL');
  await p?.teardown();
  const images = (await run(['images', '-q', '--filter', `label=${RUN_LABEL}=${runId}`]).catch(() => '')).split('\n').filter(Boolean);
  if (images.length > 0) await run(['rmi', '-f', ...new Set(images)]).catch(() => undefined);
});

test('cmesh build: success exits 0 and labels the image; a failing RUN exits 5 naming the step', { timeout: 60_000 }, async () => {
  const good = await cli.cmesh(['--profile', 'builds', 'build', 'good'], 45_000);
  assert.equal(good.code, 0, good.stderr);
  const labels = JSON.parse(await run(['image', 'inspect', '--format', '{{json .Config.Labels}}', `${project}-good:latest`])) as Record<string, string>;
  assert.equal(labels[RUN_LABEL], runId, 'compose build.labels on the image');
  assert.equal(labels['dev.cmesh.service'], 'good');
  assert.match(labels['dev.cmesh.context-hash'] ?? '', /^[0-9a-f]{64}$|^sha256:/, 'the cache key label');

  const bad = await cli.cmesh(['--profile', 'builds', 'build', 'bad'], 45_000);
  assert.equal(bad.code, 5, `exit code of a failed build (stderr: ${bad.stderr})`);
  assert.match(bad.stderr, /RUN echo about-to-fail && exit 3/, 'the failing step is named');
  assert.match(bad.stderr, /bad/, 'the service is named');
});

test('up --watch: serves v1, an edit rolls out v2, Ctrl-C stops it', { timeout: 90_000 }, async () => {
  let output = '';
  upWatch = spawn(process.execPath, [join(ROOT, 'bin/cmesh.js'), 'up', '--watch', 'web'], { cwd: cli.work, env: cli.env() });
  upWatch.stdout!.on('data', (d) => (output += d));
  upWatch.stderr!.on('data', (d) => (output += d));
  const version = async (): Promise<string | undefined> => {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
    return ((await res.json()) as { version?: string }).version;
  };
  await until('v1 through the proxy', 45_000, async () => ((await version()) === 'v1' ? true : undefined), 200).catch((err: Error) => {
    throw new Error(`${err.message}\n${output.slice(-2000)}`);
  });
  await until('the watcher', 15_000, async () => (output.includes('Watching') ? true : undefined), 100);
  await writeFile(join(cli.work, 'app', 'version.mjs'), "export const VERSION = 'v2';\n");
  await until('v2 through the proxy', 30_000, async () => ((await version()) === 'v2' ? true : undefined), 100).catch((err: Error) => {
    throw new Error(`${err.message}\n${output.slice(-2000)}`);
  });
  await until('the rollout line', 15_000, async () => (/rolled out/.test(output) ? true : undefined), 100);
  upWatch.kill('SIGINT');
  await until('up --watch to exit on Ctrl-C', 20_000, async () => (upWatch!.exitCode !== null || upWatch!.signalCode !== null ? true : undefined), 100);
});
