// The developer loop end to end: `cmesh up -d` of a built echo copy (3 replicas behind the proxy), then the real
// `cmesh watch` while ~200 req/s run: an edit rolls out start-first with 0 failed requests, a broken edit (syntax
// error → the new container exits) is rolled back with the error shown while the old version answers, a fix recovers.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Pool } from 'undici';
import { type CmeshCli, newCmeshCli, sleep, until } from '../helpers/cmesh-cli.ts';
import { ensureBaseImages, newRunId, requireDocker, ROOT, RUN_LABEL, run, TEST_LABEL, dockerTestFile } from '../helpers/docker.ts';
import { freePort } from '../helpers/free-port.ts';
import { writeWatchableEcho } from '../helpers/watchable-echo.ts';

await dockerTestFile();

const runId = newRunId('watch');
const project = runId;
let cli: CmeshCli;
let port = 0;
let client: Pool | undefined;
let watcher: ChildProcess | undefined;
let watchLog = '';

const versionFile = (): string => join(cli.work, 'app', 'version.mjs');
const setVersion = (source: string): Promise<void> => writeFile(versionFile(), source);

async function writeApp(): Promise<void> {
  const app = join(cli.work, 'app');
  await run(['--version']); // docker CLI present (requireDocker checked the engine)
  // The version is source code, not config: editing it is what a developer's save looks like.
  await writeWatchableEcho(app, 'v1');
  await cli.writeCompose(
    project,
    `  web:
    build:
      context: ./app
      labels: { ${TEST_LABEL}: "true", ${RUN_LABEL}: ${runId} }
    ports: ["${port}:3000"]
    deploy: { replicas: 3 }
    environment: { SHUTDOWN_GRACE_MS: "2000" }
    stop_grace_period: 3s
    x-cmesh:
      health: { path: /healthz, interval: 250ms, timeout: 500ms, rise: 2, fall: 2 }
      timeouts: { connect: 500ms, request: 2000ms }
    labels:
      ${TEST_LABEL}: "true"
      ${RUN_LABEL}: ${runId}
`,
  );
}

interface Outcome {
  ok: boolean;
  version?: string;
  error?: string;
}

/** Paced load until `stop` aborts (or 150 s / 40 000 requests, whichever first). */
function startLoad(stop: AbortSignal): { outcomes: Outcome[]; done: Promise<void> } {
  const outcomes: Outcome[] = [];
  const concurrency = 8;
  const gap = (1000 * concurrency) / 200;
  const deadline = performance.now() + 150_000;
  const worker = async (): Promise<void> => {
    while (!stop.aborted && performance.now() < deadline && outcomes.length < 40_000) {
      const t0 = performance.now();
      try {
        const res = await client!.request({ path: '/', method: 'GET', headersTimeout: 5000, bodyTimeout: 5000 });
        const body = (await res.body.json()) as { version?: string };
        outcomes.push(res.statusCode === 200 ? { ok: true, ...(body.version ? { version: body.version } : {}) } : { ok: false, error: `http ${res.statusCode}` });
      } catch (err) {
        outcomes.push({ ok: false, error: (err as { code?: string }).code ?? String(err) });
      }
      const wait = gap - (performance.now() - t0);
      if (wait > 0) await sleep(wait);
    }
  };
  return { outcomes, done: Promise.all(Array.from({ length: concurrency }, worker)).then(() => undefined) };
}

const lastVersions = (o: Outcome[], n: number): Set<string | undefined> => new Set(o.slice(-n).map((x) => x.version));

before(async () => {
  await requireDocker();
  await ensureBaseImages();
  cli = await newCmeshCli();
  port = await freePort();
  await writeApp();
  client = new Pool(`http://127.0.0.1:${port}`, { connections: 16, pipelining: 1, keepAliveTimeout: 4000 });
});

after(async () => {
  if (watcher && watcher.exitCode === null) watcher.kill('SIGINT');
  await client?.destroy().catch(() => undefined);
  await cli?.teardown(project, runId);
  const images = (await run(['images', '-q', '--filter', `label=${RUN_LABEL}=${runId}`]).catch(() => '')).split('\n').filter(Boolean);
  if (images.length > 0) await run(['rmi', '-f', ...new Set(images)]).catch(() => undefined);
});

test('edit → zero-downtime rollout; broken edit → rolled back, old version serves; fix → recovers', { timeout: 170_000 }, async () => {
  await cli.ok(['up', '-d', '--wait', '--timeout', '90'], 150_000);
  watcher = spawn(process.execPath, [join(ROOT, 'bin/cmesh.js'), 'watch'], { cwd: cli.work, env: cli.env() });
  watcher.stderr!.on('data', (d) => (watchLog += d));
  watcher.stdout!.on('data', (d) => (watchLog += d));
  await until('the watcher to be ready', 20_000, async () => (watchLog.includes('Watching') ? true : undefined), 100);

  const stop = new AbortController();
  const loadStarted = performance.now();
  const load = startLoad(stop.signal);
  try {
    await sleep(1000);
    assert.deepEqual(lastVersions(load.outcomes, 50), new Set(['v1']));

    // 1. A good edit rolls out replica by replica; the proxy never fails a request.
    await setVersion("export const VERSION = 'v2';\n");
    await until('v2 everywhere', 90_000, async () => (watchLog.includes('rolled out') && lastVersions(load.outcomes, 100).size === 1 && load.outcomes.at(-1)?.version === 'v2' ? true : undefined), 200);

    // 2. A syntax error builds (COPY only) but the new container exits at start: rolled back, v2 keeps answering.
    await setVersion("export const VERSION = 'v3' +;\n");
    await until('the rollback to be reported', 60_000, async () => (/rolled back/.test(watchLog) ? true : undefined), 200);
    assert.match(watchLog, /SyntaxError/, 'the crashed container’s log lines are shown');
    await sleep(1000);
    assert.deepEqual(lastVersions(load.outcomes, 150), new Set(['v2']), 'old version still answers');

    // 3. The fix recovers.
    await setVersion("export const VERSION = 'v4';\n");
    await until('v4 everywhere', 90_000, async () => (watchLog.split('rolled out').length > 2 && load.outcomes.at(-1)?.version === 'v4' && lastVersions(load.outcomes, 100).size === 1 ? true : undefined), 200);
  } finally {
    stop.abort();
    await load.done;
  }
  const failures = load.outcomes.filter((o) => !o.ok);
  const versions = new Set(load.outcomes.map((o) => o.version));
  const rate = (load.outcomes.length * 1000) / (performance.now() - loadStarted);
  console.log(`watch e2e: ${load.outcomes.length} requests (${rate.toFixed(0)}/s), ${failures.length} failed, versions ${[...versions].join(',')}`);
  // The load is paced at 200/s for as long as the three rollouts take (faster rollouts, fewer requests): what matters
  // is that it kept its pace through them, not a total.
  assert.ok(load.outcomes.length > 1000 && rate > 150, `enough load (${load.outcomes.length} requests, ${rate.toFixed(0)}/s)`);
  assert.equal(failures.length, 0, `failed requests: ${JSON.stringify(failures.slice(0, 5))}\nwatch log:\n${watchLog}`);
  assert.ok(!versions.has('v3'), 'the broken version never answered');
});
