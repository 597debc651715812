// Watch benchmark against the real engine, in one run, with a copy of the echo fixture (3 replicas behind a published
// port) under the real `cmesh watch`:
//   (a) rebuild: time from saving a source file to the first response of the new version through the proxy, against
//       the bare `docker build` of the same change (same Dockerfile and context, fresh tag) in the same run;
//       goal ≤ build + 1.0 s (medians of N). The daemon's events split each save into phases.
//   (b) sync: develop.watch `sync` into /app/static, from save to the new bytes served by every replica (GET /file,
//       straight to each replica's loopback port); goal ≤ 1.0 s (median of N).
// Usage: npx tsx bench/watch.ts [--reps N] [--json] [--eager-poll] [--build-labels]. Never pulls; everything it makes is
// removed at the end (containers by label, images by repository name).

import { type ChildProcess, spawn } from 'node:child_process';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { DaemonEvent } from '../daemon/api/events.ts';
import { type CmeshCli, newCmeshCli, sleep, until } from '../test/helpers/cmesh-cli.ts';
import { ensureBaseImages, newRunId, requireDocker, ROOT, RUN_LABEL, run, TEST_LABEL } from '../test/helpers/docker.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { versionSource, writeWatchableEcho } from '../test/helpers/watchable-echo.ts';
import { benchArgs } from './args.ts';
import { median } from './median.ts';
import { ms, type Phases, phasesSince } from './watch-phases.ts';

const opts = benchArgs('usage: npx tsx bench/watch.ts [--reps N] [--json] [--eager-poll] [--build-labels]', {
  reps: { type: 'number' },
  json: { type: 'boolean' },
  'eager-poll': { type: 'boolean' },
  'build-labels': { type: 'boolean' },
});
const REPS = opts.reps || 5;
const JSON_OUT = opts.json === true;
/** Poll the proxy every 10 ms from the save on (how runs before 2026-11-24 measured), not only once a new container runs. */
const EAGER_POLL = opts['eager-poll'] === true;
/** Give the compose file `build.labels` (cmesh then adds one LABEL step to the build; runs before 2026-11-24 had them). */
const BUILD_LABELS = opts['build-labels'] === true;
const runId = newRunId('bench-watch');
const project = runId;
const bareRepo = `${runId}-bare`;
/** The repository cmesh builds the service into (imageRepository() in builder/build.ts). */
const cmeshRepo = `${runId}-web`;

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
let cli: CmeshCli;
let watcher: ChildProcess | undefined;
let eventsProc: ChildProcess | undefined;
let watchLog = '';
const events: DaemonEvent[] = [];

const appDir = (): string => join(cli.work, 'app');

async function writeProject(port: number): Promise<void> {
  const app = appDir();
  await mkdir(join(app, 'static'), { recursive: true });
  // The version is source code: editing it is what a developer's save looks like (as in test/e2e/watch.docker.test.ts).
  await writeWatchableEcho(app, 'v0');
  await writeFile(
    join(cli.work, 'compose.yaml'),
    `name: ${project}
services:
  web:
    build:
      context: ./app
${BUILD_LABELS ? `      labels: { ${TEST_LABEL}: "true", ${RUN_LABEL}: ${runId} }\n` : ''}    ports: ["${port}:3000"]
    deploy: { replicas: 3 }
    environment: { SHUTDOWN_GRACE_MS: "2000" }
    stop_grace_period: 3s
    develop:
      watch:
        - { action: sync, path: ./app/static, target: /app/static }
        - { action: rebuild, path: ./app, ignore: [static] }
    x-cmesh:
      health: { path: /healthz, interval: 250ms, timeout: 500ms, rise: 2, fall: 2 }
      timeouts: { connect: 500ms, request: 2000ms }
    labels:
      ${TEST_LABEL}: "true"
      ${RUN_LABEL}: ${runId}
`,
  );
}

function spawnCmesh(argv: string[], onStdout: (chunk: string) => void, onStderr: (chunk: string) => void = onStdout): ChildProcess {
  const child = spawn(process.execPath, [join(ROOT, 'bin/cmesh.js'), ...argv], { cwd: cli.work, env: cli.env() });
  child.stdout!.on('data', (d) => onStdout(String(d)));
  child.stderr!.on('data', (d) => onStderr(String(d)));
  return child;
}

/** GET / through the proxy; the version string or undefined (any failure counts as "not yet"). */
async function versionVia(port: number): Promise<string | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
  const body = (await res.json()) as { version?: string };
  return res.status === 200 ? body.version : undefined;
}

async function bareBuild(version: string, tag: string): Promise<number> {
  const dir = join(cli.work, `bare-${tag}`);
  await cp(appDir(), dir, { recursive: true });
  await writeFile(join(dir, 'version.mjs'), versionSource(version));
  const started = performance.now();
  // The classic builder: the same one cmesh drives through the engine's /build endpoint. No --label: each would be a
  // LABEL step of its own on this engine, and the baseline is the plain build a developer would run. The image is
  // removed by its repository name in teardown() instead.
  await run(['build', '-q', '-t', `${bareRepo}:${tag}`, dir], {
    env: { ...process.env, DOCKER_BUILDKIT: '0' },
    timeoutMs: 120_000,
  });
  const took = performance.now() - started;
  await rm(dir, { recursive: true, force: true });
  return took;
}

/** A container of the project started after t0 (the daemon's events): only then can a new version answer. */
const newContainerStarted = (t0: number): boolean =>
  events.some((e) => e.time >= t0 && e.project === project && e.type === 'container' && e.action === 'started');

async function rebuildRep(port: number, i: number): Promise<{ saveToNew: number; bare: number; phases: Phases }> {
  // The bare build has its own version string, so both builds miss the COPY layer cache as a real edit does; it runs
  // before the save on even repetitions and after the rollout on odd ones, so drift in machine load hits both alike.
  const bareFirst = i % 2 === 0;
  const bareBefore = bareFirst ? await bareBuild(`r${i}-bare`, `r${i}`) : 0;
  const version = `r${i}`;
  const doneBefore = events.filter((e) => e.type === 'rollout' && e.phase === 'done').length;
  const polls: { at: number; version: string | undefined }[] = [];
  const t0 = Date.now();
  await writeFile(join(appDir(), 'version.mjs'), versionSource(version));
  // Every 10 ms once a new container runs; before that every 100 ms. Polling 100×/s through the daemon's proxy on this
  // 2-core machine slowed the very build it waits for (the bare build runs without it); a slower poll while no new
  // version can answer can only make the measured time longer, never shorter.
  const deadline = t0 + 120_000;
  let firstAt: number | undefined;
  while (firstAt === undefined) {
    if (Date.now() > deadline) throw new Error(`version ${version} never answered through the proxy`);
    const seen = await versionVia(port).catch(() => undefined);
    const at = Date.now();
    polls.push({ at, version: seen });
    if (seen === version) firstAt = at;
    else await sleep(EAGER_POLL || newContainerStarted(t0) ? 10 : 100);
  }
  await until('the rollout to finish', 120_000, async () => (events.filter((e) => e.type === 'rollout' && e.phase === 'done').length > doneBefore ? true : undefined), 50);
  const phases = phasesSince(events, project, t0, firstAt, polls, version);
  const bare = bareFirst ? bareBefore : await bareBuild(`r${i}-bare`, `r${i}`);
  return { saveToNew: firstAt - t0, bare, phases };
}

/** Each running replica's own endpoint (its address on the project network, or a loopback port): `host:port`. */
async function replicaPorts(): Promise<string[]> {
  const ps = await cli.ps();
  return ps
    .filter((r) => r.service === 'web' && r.state === 'running')
    .map((r) => r.endpoints.find((e) => e.containerPort === 3000))
    .filter((e) => e !== undefined)
    .map((e) => `${e.host}:${e.hostPort}`);
}

async function syncRep(ports: string[], i: number): Promise<number> {
  const token = `sync-${i}-${Date.now()}`;
  const name = `f${i}.txt`;
  const t0 = performance.now();
  await writeFile(join(appDir(), 'static', name), token);
  const seen = await Promise.all(
    ports.map((p) =>
      until(`${name} in the replica at ${p}`, 20_000, async () => {
        const res = await fetch(`http://${p}/file?path=${name}`, { signal: AbortSignal.timeout(1000) });
        return res.status === 200 && (await res.text()) === token ? performance.now() : undefined;
      }, 10),
    ),
  );
  return Math.max(...seen) - t0;
}

async function main(): Promise<void> {
  await requireDocker();
  await ensureBaseImages();
  cli = await newCmeshCli();
  const port = await freePort();
  await writeProject(port);
  log(`bench/watch: ${runId}, ${REPS} repetitions`);
  const up = await cli.cmesh(['up', '-d', '--wait', '--timeout', '120'], 180_000);
  if (up.code !== 0) throw new Error(`cmesh up failed:\n${up.stderr}`);
  let partial = '';
  eventsProc = spawnCmesh(['events', '--json'], (chunk) => {
    // Lines can be split across chunks: keep the tail until its newline arrives.
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        events.push(JSON.parse(line) as DaemonEvent);
      } catch {
        log(`bench/watch: unparsable event line: ${line.slice(0, 200)}`);
      }
    }
  }, () => {});
  watcher = spawnCmesh(['watch'], (chunk) => (watchLog += chunk));
  await until('the watcher to be ready', 30_000, async () => (watchLog.includes('Watching') ? true : undefined), 50);
  await sleep(300);

  // One untimed warm-up edit (page cache, the daemon's build path, the builder's layer lookups).
  await rebuildRep(port, 0);
  const reps: Awaited<ReturnType<typeof rebuildRep>>[] = [];
  for (let i = 1; i <= REPS; i++) {
    const r = await rebuildRep(port, i);
    reps.push(r);
    const p = r.phases;
    log(
      `  rebuild ${i}: save→new ${ms(r.saveToNew)}, bare build ${ms(r.bare)} | save→build ${ms(p.saveToBuild)}, build ${ms(p.build)}, ` +
        `create ${ms(p.create)}, start ${ms(p.start)}, health ${ms(p.healthy)}, first pick ${ms(p.firstPick)} (${p.oldAnswersAfterRoutable} old answers), ` +
        `rollout done ${ms(p.rolloutDone)}${p.trouble.length > 0 ? `\n    ${p.trouble.join('\n    ')}` : ''}`,
    );
    await sleep(500);
  }

  const ports = await replicaPorts();
  if (ports.length !== 3) throw new Error(`expected 3 running replicas, found ${ports.length}`);
  await syncRep(ports, 0); // warm-up
  const syncs: number[] = [];
  for (let i = 1; i <= REPS; i++) {
    syncs.push(await syncRep(ports, i));
    log(`  sync ${i}: save→visible in 3 replicas ${ms(syncs.at(-1)!)}`);
    await sleep(300);
  }

  const saveToNew = median(reps.map((r) => r.saveToNew));
  const bare = median(reps.map((r) => r.bare));
  const phase = (k: Exclude<keyof Phases, 'trouble'>): number => median(reps.map((r) => r.phases[k]));
  const summary = {
    reps: REPS,
    saveToNewMs: saveToNew,
    bareBuildMs: bare,
    overheadMs: saveToNew - bare,
    // Per repetition (save→new minus the same repetition's bare build), then the median: robust to load drift.
    pairedOverheadMs: median(reps.map((r) => r.saveToNew - r.bare)),
    rebuildGoalMet: saveToNew <= bare + 1000,
    phasesMs: Object.fromEntries((['saveToBuild', 'build', 'create', 'start', 'healthy', 'firstPick', 'firstResponse', 'rolloutDone'] as const).map((k) => [k, phase(k)])),
    oldAnswersAfterRoutable: phase('oldAnswersAfterRoutable'),
    eagerPoll: EAGER_POLL,
    buildLabels: BUILD_LABELS,
    syncMs: median(syncs),
    syncGoalMet: median(syncs) <= 1000,
    loadAvg: loadavg(),
  };
  if (JSON_OUT) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    log(`rebuild: save→new version median ${ms(saveToNew)}, bare docker build median ${ms(bare)}, overhead ${ms(saveToNew - bare)} (goal ≤ 1000 ms): ${summary.rebuildGoalMet ? 'met' : 'NOT met'}`);
    log(`  paired overhead (median of per-repetition differences) ${ms(summary.pairedOverheadMs)}`);
    log(`  phases (medians): ${Object.entries(summary.phasesMs).map(([k, v]) => `${k} ${ms(v)}`).join(', ')}; old answers after routable ${summary.oldAnswersAfterRoutable}`);
    log(`  load average ${summary.loadAvg.map((l) => l.toFixed(1)).join(' ')}${EAGER_POLL ? ', eager poll' : ''}${BUILD_LABELS ? ', build labels' : ''}`);
    log(`sync: save→visible in every replica median ${ms(summary.syncMs)} (goal ≤ 1000 ms): ${summary.syncGoalMet ? 'met' : 'NOT met'}`);
  }
}

async function teardown(): Promise<void> {
  if (watcher && watcher.exitCode === null) watcher.kill('SIGINT');
  if (eventsProc && eventsProc.exitCode === null) eventsProc.kill('SIGINT');
  await cli?.teardown(project, runId);
  const labelled = await run(['images', '-q', '--filter', `label=${RUN_LABEL}=${runId}`]).catch(() => '');
  const bare = await run(['images', '-q', '--filter', `reference=${bareRepo}`]).catch(() => '');
  // Without build.labels cmesh's images carry no labels: found by repository name, like the bare builds.
  const built = await run(['images', '-q', '--filter', `reference=${cmeshRepo}`]).catch(() => '');
  const images = `${labelled}\n${bare}\n${built}`.split('\n').filter(Boolean);
  if (images.length > 0) await run(['rmi', '-f', ...new Set(images)]).catch(() => undefined);
}

let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  log(`bench/watch failed: ${err instanceof Error ? err.stack : String(err)}\nwatch log:\n${watchLog.slice(-3000)}`);
} finally {
  await teardown();
}
process.exit(failed ? 1 : 0);
