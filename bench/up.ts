// Up / reconcile / daemon-memory benchmark against the real engine, in one run:
//   (a) `cmesh up -d --wait` of 3 services × 3 echo replicas with healthchecks vs docker-compose 1.29
//       `up -d --scale` of the same project + polling `docker inspect` until all healthy (median of N; goal ≤ 0.5×);
//   (b) a no-op reconcile pass at 200 busybox containers (median of 10; goal ≤ 100 ms);
//   (c) the daemon's VmRSS with 30 replicas running (goal ≤ 80 MB);
//   (d) the engine floor: the same 9 containers created and started straight through the engine API from this
//       process, all at once, then polled until healthy — what any client must pay, so the ratio goal's reach is known.
// Usage: npx tsx bench/up.ts [--reps N] [--json]   (needs docker-compose 1.29: apt-get install -y docker-compose)
// Images are local (scripts/build-base-images.sh, fixtures/docker/echo); never pulls. Everything is labelled
// dev.cmesh.test=true plus a run label and removed at the end, even on failure.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DesiredProject } from '../daemon/api/desired.ts';
import { createDockerEngine } from '../daemon/engine/dockerode-engine.ts';
import { ProjectReconciler } from '../daemon/reconcile/loop.ts';
import { buildFixtureImage, cleanup, newRunId, ROOT, RUN_LABEL, run, TEST_LABEL } from '../test/helpers/docker.ts';

const args = process.argv.slice(2);
const REPS = Number(args[args.indexOf('--reps') + 1] ?? 0) || 5;
const JSON_OUT = args.includes('--json');
const runId = newRunId('bench-up');
const cmeshProject = `${runId}-cm`;
const composeProject = `${runId.replace(/-/g, '')}dc`;
const bigProject = `${runId}-big`;

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Proc {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function exec(file: string, argv: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Proc> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(file, argv, { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 300_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

async function must(p: Promise<Proc>, what: string): Promise<Proc> {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stderr.slice(-2000)}`);
  return r;
}

let work = '';
let home = '';
const cmeshEnv = (): NodeJS.ProcessEnv => ({ ...process.env, CMESH_HOME: home, NO_COLOR: '1' });
const cmesh = (argv: string[], timeoutMs?: number): Promise<Proc> =>
  exec(process.execPath, [join(ROOT, 'bin/cmesh.js'), ...argv], { cwd: work, env: cmeshEnv(), ...(timeoutMs ? { timeoutMs } : {}) });
const compose = (argv: string[]): Promise<Proc> => exec('docker-compose', ['-p', composeProject, '-f', 'compose-1.29.yaml', ...argv], { cwd: work });

async function daemonPid(): Promise<number> {
  const pid = Number.parseInt(await readFile(join(home, 'daemon.pid'), 'utf8'), 10);
  if (!(pid > 0)) throw new Error('no daemon pid file');
  return pid;
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
  return kb / 1024;
}

const labels = `    labels:\n      ${TEST_LABEL}: "true"\n      ${RUN_LABEL}: ${runId}\n`;
const healthcheck = '    healthcheck:\n      test: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:3000/healthz"]\n      interval: 1s\n      timeout: 2s\n      retries: 3\n';

function echoServices(image: string, withReplicas: boolean): string {
  return ['a', 'b', 'c']
    .map((s) => `  ${s}:\n    image: ${image}\n    environment: { SHUTDOWN_GRACE_MS: "200" }\n    expose: ["3000"]\n${withReplicas ? '    deploy: { replicas: 3 }\n' : ''}${healthcheck}${labels}`)
    .join('');
}

async function writeProjects(image: string): Promise<void> {
  await writeFile(join(work, 'compose.yaml'), `name: ${cmeshProject}\nservices:\n${echoServices(image, true)}`);
  // Compose 1.29 variant: file format 2.4 (healthcheck + scale), no x-cmesh, no published ports (it cannot publish
  // one host port for N replicas; cmesh's proxy can — neither side publishes here, so both do the same work).
  await writeFile(join(work, 'compose-1.29.yaml'), `version: "2.4"\nservices:\n${echoServices(image, false)}`);
  const big = ['s1', 's2', 's3', 's4']
    .map((s) => `  ${s}:\n    image: cmesh/busybox:local\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n    deploy: { replicas: 50 }\n${labels}`)
    .join('');
  await writeFile(join(work, 'big.yaml'), `name: ${bigProject}\nservices:\n${big}`);
}

/** Polls `docker inspect` (every 100 ms) until `count` containers of the compose project are healthy. */
async function composeHealthy(count: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ids = (await run(['ps', '-q', '--filter', `label=com.docker.compose.project=${composeProject}`])).split('\n').filter(Boolean);
    if (ids.length === count) {
      const health = (await run(['inspect', '--format', '{{.State.Health.Status}}', ...ids])).split('\n');
      if (health.every((h) => h === 'healthy')) return;
    }
    await sleep(100);
  }
  throw new Error(`compose project not healthy within ${timeoutMs} ms`);
}

const engine = createDockerEngine();
const FLOOR_HEALTH = { test: ['CMD', 'wget', '-q', '-O-', 'http://127.0.0.1:3000/healthz'], intervalMs: 1000, timeoutMs: 2000, retries: 3, disable: false };

/**
 * The floor: one network, then 9 containers each created and started at once (no concurrency limit, no planning, no
 * CLI), the same engine work as cmesh's (init, the exposed port bound on 127.0.0.1), polled every 50 ms until healthy.
 */
async function floorUp(image: string, rep: number): Promise<number> {
  const labels = { [TEST_LABEL]: 'true', [RUN_LABEL]: runId };
  const network = `${runId}-floor${rep}`;
  const started = performance.now();
  await engine.createNetwork({ name: network, labels });
  const ids = await Promise.all(
    Array.from({ length: 9 }, async (_, i) => {
      const { id } = await engine.createContainer({
        name: `${network}-${i + 1}`,
        image,
        env: { SHUTDOWN_GRACE_MS: '200' },
        labels,
        ports: [{ containerPort: 3000, protocol: 'tcp' }],
        healthcheck: FLOOR_HEALTH,
        mounts: [],
        networks: [{ name: network, aliases: [] }],
        init: true,
      });
      await engine.startContainer(id);
      return id;
    }),
  );
  for (;;) {
    const all = await engine.listContainers({ labels: { [RUN_LABEL]: runId }, all: true });
    if (all.filter((c) => ids.includes(c.id) && c.health === 'healthy').length === ids.length) break;
    if (performance.now() - started > 120_000) throw new Error('floor containers not healthy within 120 s');
    await sleep(50);
  }
  const ms = performance.now() - started;
  await Promise.all(ids.map((id) => engine.removeContainer(id, { force: true })));
  await engine.removeNetwork(network);
  return ms;
}

async function benchUp(image: string): Promise<{ cmeshMs: number[]; composeMs: number[]; floorMs: number[] }> {
  const cmeshMs: number[] = [];
  const composeMs: number[] = [];
  const floorMs: number[] = [];
  await floorUp(image, 0);
  // Warm both paths once (image layers in the page cache, the daemon's modules loaded), untimed.
  await must(cmesh(['up', '-d', '--wait', '--timeout', '60']), 'warm-up cmesh up');
  await must(cmesh(['down']), 'cmesh down');
  await must(compose(['up', '-d', '--scale', 'a=3', '--scale', 'b=3', '--scale', 'c=3']), 'warm-up compose up');
  await composeHealthy(9);
  await must(compose(['down', '-t', '1']), 'compose down');
  for (let i = 0; i < REPS; i++) {
    // Alternate which goes first so drift in machine load hits both alike.
    const order = i % 2 === 0 ? ['cmesh', 'compose', 'floor'] : ['floor', 'compose', 'cmesh'];
    for (const who of order) {
      if (who === 'floor') floorMs.push(await floorUp(image, i + 1));
      else if (who === 'cmesh') {
        const r = await must(cmesh(['up', '-d', '--wait', '--timeout', '60']), 'cmesh up');
        cmeshMs.push(r.ms);
        await must(cmesh(['down']), 'cmesh down');
      } else {
        const started = performance.now();
        await must(compose(['up', '-d', '--scale', 'a=3', '--scale', 'b=3', '--scale', 'c=3']), 'compose up');
        await composeHealthy(9);
        composeMs.push(performance.now() - started);
        await must(compose(['down', '-t', '1']), 'compose down');
      }
    }
    log(`  rep ${i + 1}: cmesh ${cmeshMs.at(-1)!.toFixed(0)} ms, compose ${composeMs.at(-1)!.toFixed(0)} ms, floor ${floorMs.at(-1)!.toFixed(0)} ms`);
  }
  return { cmeshMs, composeMs, floorMs };
}

/** A reconciler of its own in this process, on the real engine and the daemon's persisted desired state. */
async function benchNoopPass(): Promise<{ passMs: number[]; actions: number[] }> {
  const desired = JSON.parse(await readFile(join(home, 'projects', `${bigProject}.json`), 'utf8')) as DesiredProject;
  const abort = new AbortController();
  const reconciler = new ProjectReconciler({
    engine: createDockerEngine(),
    name: bigProject,
    getDesired: () => desired,
    emit: () => undefined,
    signal: abort.signal,
    resyncMs: 3_600_000,
  });
  const passMs: number[] = [];
  const actions: number[] = [];
  try {
    await reconciler.reconcileNow(); // warm-up: connections, JIT
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const result = await reconciler.reconcileNow();
      passMs.push(performance.now() - started);
      actions.push(result.actions);
    }
  } finally {
    abort.abort();
  }
  return { passMs, actions };
}

async function sweep(): Promise<void> {
  await cmesh(['down', '-v', '--remove-orphans'], 180_000).catch(() => undefined);
  await cmesh(['-f', 'big.yaml', 'down', '-v'], 180_000).catch(() => undefined);
  await cmesh(['daemon', 'stop'], 30_000).catch(() => undefined);
  await compose(['down', '-t', '1']).catch(() => undefined);
  await cleanup(runId).catch((e: unknown) => log(`cleanup: ${String(e)}`));
}

async function main(): Promise<void> {
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status !== 0) {
    process.stderr.write('bench/up.ts needs docker-compose 1.29 (Debian): apt-get install -y docker-compose\n');
    process.exit(2);
  }
  work = await mkdtemp(join(tmpdir(), 'cmesh-bench-up-'));
  home = await mkdtemp(join(tmpdir(), 'cmh-'));
  try {
    const image = await buildFixtureImage('echo');
    await writeProjects(image);
    await must(cmesh(['daemon', 'start']), 'daemon start');

    log(`(a) up of 3 services × 3 replicas, ${REPS} reps`);
    const up = await benchUp(image);

    log('(c) daemon RSS with 30 replicas');
    const startedBig = performance.now();
    await must(cmesh(['-f', 'big.yaml', 'up', '-d', '--scale', 's1=8', '--scale', 's2=8', '--scale', 's3=7', '--scale', 's4=7'], 600_000), 'up 30');
    const up30Ms = performance.now() - startedBig;
    const pid = await daemonPid();
    // Let a few resync passes and the event stream run, then sample.
    const rss: number[] = [];
    for (let i = 0; i < 6; i++) {
      await sleep(1000);
      rss.push(await rssMb(pid));
    }

    log('(b) no-op reconcile pass at 200 containers');
    const startedScale = performance.now();
    await must(cmesh(['-f', 'big.yaml', 'scale', 's1=50', 's2=50', 's3=50', 's4=50'], 900_000), 'scale to 200');
    const scale200Ms = performance.now() - startedScale;
    const running = (await run(['ps', '-q', '--filter', `label=dev.cmesh.project=${bigProject}`])).split('\n').filter(Boolean).length;
    const noop = await benchNoopPass();
    const rss200 = await rssMb(pid);

    const result = {
      date: new Date().toISOString(),
      machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? '?'}, node ${process.version}`,
      loadavg: (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' '),
      up: {
        reps: REPS,
        cmeshMs: up.cmeshMs.map(Math.round),
        composeMs: up.composeMs.map(Math.round),
        cmeshMedianMs: Math.round(median(up.cmeshMs)),
        composeMedianMs: Math.round(median(up.composeMs)),
        ratio: Number((median(up.cmeshMs) / median(up.composeMs)).toFixed(2)),
        floorMs: up.floorMs.map(Math.round),
        floorMedianMs: Math.round(median(up.floorMs)),
        floorRatio: Number((median(up.floorMs) / median(up.composeMs)).toFixed(2)),
      },
      noop: {
        containers: running,
        passMs: noop.passMs.map((x) => Number(x.toFixed(1))),
        medianMs: Number(median(noop.passMs).toFixed(1)),
        actions: noop.actions,
        scaleTo200Ms: Math.round(scale200Ms),
      },
      rss: { replicas: 30, samplesMb: rss.map((x) => Number(x.toFixed(1))), maxMb: Number(Math.max(...rss).toFixed(1)), at200Mb: Number(rss200.toFixed(1)), up30Ms: Math.round(up30Ms) },
    };
    if (JSON_OUT) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
      process.stdout.write(
        [
          `date ${result.date}  machine ${result.machine}  load ${result.loadavg}`,
          `(a) up -d --wait, 3×3 echo with healthchecks: cmesh median ${result.up.cmeshMedianMs} ms ${JSON.stringify(result.up.cmeshMs)}`,
          `    docker-compose 1.29 up -d --scale + poll healthy: median ${result.up.composeMedianMs} ms ${JSON.stringify(result.up.composeMs)}`,
          `    engine floor (9 × create+start at once through the API, poll healthy): median ${result.up.floorMedianMs} ms ${JSON.stringify(result.up.floorMs)}`,
          `    ratio cmesh/compose ${result.up.ratio}× (goal ≤ 0.5×: ${verdict(result.up.ratio <= 0.5)}); floor/compose ${result.up.floorRatio}×, cmesh/floor ${(result.up.cmeshMedianMs / result.up.floorMedianMs).toFixed(2)}×`,
          `(b) no-op reconcile at ${running} containers: median ${result.noop.medianMs} ms ${JSON.stringify(result.noop.passMs)} actions ${JSON.stringify(result.noop.actions)} (goal ≤ 100 ms: ${verdict(result.noop.medianMs <= 100)})`,
          `(c) daemon VmRSS with 30 replicas: max ${result.rss.maxMb} MB ${JSON.stringify(result.rss.samplesMb)}; at 200: ${result.rss.at200Mb} MB (goal ≤ 80 MB: ${verdict(result.rss.maxMb <= 80)})`,
          `    (up of 30: ${result.rss.up30Ms} ms; scale 30 → 200: ${result.noop.scaleTo200Ms} ms)`,
        ].join('\n') + '\n',
      );
    }
  } finally {
    log('cleaning up');
    await sweep();
    await rm(work, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  }
}

await main();
