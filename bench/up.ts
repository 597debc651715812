// Up / reconcile / daemon-memory benchmark against the real engine, in one run:
//   (a) `cmesh up -d --wait` of 3 services × 3 echo replicas with healthchecks vs docker-compose 1.29
//       `up -d --scale` of the same project + polling `docker inspect` until all healthy (median of N; goal ≤ 0.5×);
//   (b) a no-op reconcile pass at 200 busybox containers (median of 10; goal ≤ 100 ms);
//   (c) the daemon's VmRSS with 30 replicas running (goal ≤ 80 MB);
//   (d) the engine floor: the same 9 containers created and started straight through the engine API from this
//       process, all at once, then polled until healthy — what any client must pay, so the ratio goal's reach is known;
//   (e) a depends_on chain with 5 s healthcheck intervals, and (f) a no-op `up -d` of it (bench/up-chain.ts), each
//       beside its engine floor (goals: chain ≤ 0.25× compose, no-op ≤ 0.2× compose).
// Usage: npx tsx bench/up.ts [--reps N] [--only a,b,c,e] [--json]   (a: 3×3 up with its floor, b/c: the 200-container
// pass and RSS, e: the chain and no-op scenarios; default all)   (needs docker-compose 1.29: apt-get install -y docker-compose)
// Images are local (scripts/build-base-images.sh, fixtures/docker/echo); never pulls. Everything is labelled
// dev.cmesh.test=true plus a run label and removed at the end, even on failure.

import { spawn, spawnSync } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DesiredProject } from '../daemon/api/desired.ts';
import { createDockerEngine } from '../daemon/engine/dockerode-engine.ts';
import { ProjectReconciler } from '../daemon/reconcile/loop.ts';
import { buildFixtureImage, cleanup, newRunId, ROOT, RUN_LABEL, run, TEST_LABEL } from '../test/helpers/docker.ts';
import { type ChainContext, cmeshChain, composeChain, floorChain, listFloor, writeChainFile } from './up-chain.ts';

const args = process.argv.slice(2);
const REPS = Number(args[args.indexOf('--reps') + 1] ?? 0) || 5;
const JSON_OUT = args.includes('--json');
const ONLY = new Set((args.includes('--only') ? args[args.indexOf('--only') + 1] ?? '' : 'a,b,c,e').split(','));
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
async function composeHealthy(count: number, timeoutMs = 120_000, project = composeProject): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ids = (await run(['ps', '-q', '--filter', `label=com.docker.compose.project=${project}`])).split('\n').filter(Boolean);
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

const chainCmesh = `${runId}-ch`;
const chainCompose = `${runId.replace(/-/g, '')}ch`;
const NOOPS = 5;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** (e) and (f): REPS alternating rounds of the chain (then NOOPS no-op ups on it) for cmesh, compose and the floor. */
async function benchChain() {
  const ctx: ChainContext = {
    work,
    runId,
    labels: { [TEST_LABEL]: 'true', [RUN_LABEL]: runId },
    engine,
    cmesh: async (argv) => (await must(cmesh(argv), `cmesh ${argv.join(' ')}`)).ms,
    compose: async (argv) => (await must(exec('docker-compose', argv, { cwd: work }), `docker-compose ${argv.join(' ')}`)).ms,
    composeHealthy: (project, count) => composeHealthy(count, 120_000, project),
    log,
  };
  const port = await freePort();
  const file = await writeChainFile(ctx, port);
  const out = { cmeshUpMs: [] as number[], cmeshAnswerMs: [] as number[], composeUpMs: [] as number[], composeAnswerMs: [] as number[], floorMs: [] as number[] };
  const noop = { cmeshMs: [] as number[], composeMs: [] as number[], floorMs: [] as number[] };
  const cmeshDown = () => ctx.cmesh(['-p', chainCmesh, '-f', file, 'down']);
  const composeDown = () => ctx.compose(['-p', chainCompose, '-f', file, 'down', '-t', '1']);
  // Warm the daemon's paths once, untimed (compose has nothing to warm: every run is a fresh python process).
  await cmeshChain(ctx, file, chainCmesh, port);
  await cmeshDown();
  for (let i = 0; i < REPS; i++) {
    const order = i % 2 === 0 ? ['cmesh', 'compose', 'floor'] : ['floor', 'compose', 'cmesh'];
    for (const who of order) {
      if (who === 'floor') out.floorMs.push(await floorChain(ctx, i));
      else if (who === 'cmesh') {
        const r = await cmeshChain(ctx, file, chainCmesh, port);
        out.cmeshUpMs.push(r.upMs);
        out.cmeshAnswerMs.push(r.answerMs);
        for (let n = 0; n < NOOPS; n++) noop.cmeshMs.push(await ctx.cmesh(['-p', chainCmesh, '-f', file, 'up', '-d']));
        noop.floorMs.push(...(await listFloor(ctx, chainCmesh, NOOPS)));
        await cmeshDown();
      } else {
        const r = await composeChain(ctx, file, chainCompose, port);
        out.composeUpMs.push(r.upMs);
        out.composeAnswerMs.push(r.answerMs);
        for (let n = 0; n < NOOPS; n++) noop.composeMs.push(await ctx.compose(['-p', chainCompose, '-f', file, 'up', '-d']));
        await composeDown();
      }
    }
    log(
      `  rep ${i + 1}: chain cmesh ${out.cmeshUpMs.at(-1)!.toFixed(0)} ms (answers ${out.cmeshAnswerMs.at(-1)!.toFixed(0)}), compose ${out.composeUpMs.at(-1)!.toFixed(0)} ms (answers ${out.composeAnswerMs.at(-1)!.toFixed(0)}), floor ${out.floorMs.at(-1)!.toFixed(0)} ms; no-op cmesh ${median(noop.cmeshMs.slice(-NOOPS)).toFixed(0)} ms, compose ${median(noop.composeMs.slice(-NOOPS)).toFixed(0)} ms`,
    );
  }
  const med = (xs: number[]): number => Math.round(median(xs));
  const ratio = (a: number[], b: number[]): number => Number((median(a) / median(b)).toFixed(2));
  return {
    chain: {
      reps: REPS,
      cmeshUpMs: out.cmeshUpMs.map(Math.round),
      composeUpMs: out.composeUpMs.map(Math.round),
      cmeshAnswerMs: out.cmeshAnswerMs.map(Math.round),
      composeAnswerMs: out.composeAnswerMs.map(Math.round),
      floorMs: out.floorMs.map(Math.round),
      cmeshMedianMs: med(out.cmeshUpMs),
      composeMedianMs: med(out.composeUpMs),
      cmeshAnswerMedianMs: med(out.cmeshAnswerMs),
      composeAnswerMedianMs: med(out.composeAnswerMs),
      floorMedianMs: med(out.floorMs),
      ratio: ratio(out.cmeshUpMs, out.composeUpMs),
      answerRatio: ratio(out.cmeshAnswerMs, out.composeAnswerMs),
      floorRatio: ratio(out.floorMs, out.composeUpMs),
    },
    noopUp: {
      runs: noop.cmeshMs.length,
      cmeshMs: noop.cmeshMs.map(Math.round),
      composeMs: noop.composeMs.map(Math.round),
      floorMs: noop.floorMs.map((x) => Number(x.toFixed(1))),
      cmeshMedianMs: med(noop.cmeshMs),
      composeMedianMs: med(noop.composeMs),
      floorMedianMs: Number(median(noop.floorMs).toFixed(1)),
      ratio: ratio(noop.cmeshMs, noop.composeMs),
    },
  };
}

async function sweep(): Promise<void> {
  await cmesh(['-p', chainCmesh, '-f', 'chain.yaml', 'down'], 60_000).catch(() => undefined);
  await exec('docker-compose', ['-p', chainCompose, '-f', 'chain.yaml', 'down', '-t', '1'], { cwd: work }).catch(() => undefined);
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

    const result: Record<string, unknown> = {
      date: new Date().toISOString(),
      machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? '?'}, node ${process.version}`,
    };
    const lines: string[] = [];
    const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');

    if (ONLY.has('a')) {
      log(`(a) up of 3 services × 3 replicas, ${REPS} reps`);
      const up = await benchUp(image);
      const r = {
        reps: REPS,
        cmeshMs: up.cmeshMs.map(Math.round),
        composeMs: up.composeMs.map(Math.round),
        cmeshMedianMs: Math.round(median(up.cmeshMs)),
        composeMedianMs: Math.round(median(up.composeMs)),
        ratio: Number((median(up.cmeshMs) / median(up.composeMs)).toFixed(2)),
        floorMs: up.floorMs.map(Math.round),
        floorMedianMs: Math.round(median(up.floorMs)),
        floorRatio: Number((median(up.floorMs) / median(up.composeMs)).toFixed(2)),
      };
      result['up'] = r;
      lines.push(
        `(a) up -d --wait, 3×3 echo with healthchecks: cmesh median ${r.cmeshMedianMs} ms ${JSON.stringify(r.cmeshMs)}`,
        `    docker-compose 1.29 up -d --scale + poll healthy: median ${r.composeMedianMs} ms ${JSON.stringify(r.composeMs)}`,
        `    engine floor (9 × create+start at once through the API, poll healthy): median ${r.floorMedianMs} ms ${JSON.stringify(r.floorMs)}`,
        `    ratio cmesh/compose ${r.ratio}× (goal ≤ 0.7×: ${verdict(r.ratio <= 0.7)}); floor/compose ${r.floorRatio}×, cmesh/floor ${(r.cmeshMedianMs / r.floorMedianMs).toFixed(2)}×`,
      );
    }

    if (ONLY.has('e')) {
      log(`(e) depends_on chain db ← api1, api2 ← web (interval 5 s) and (f) no-op up -d, ${REPS} reps`);
      const { chain, noopUp } = await benchChain();
      result['chain'] = chain;
      result['noopUp'] = noopUp;
      lines.push(
        `(e) chain up (cmesh up -d --wait): median ${chain.cmeshMedianMs} ms ${JSON.stringify(chain.cmeshUpMs)}; web answers on its port after ${chain.cmeshAnswerMedianMs} ms ${JSON.stringify(chain.cmeshAnswerMs)}`,
        `    docker-compose 1.29 up -d + poll healthy: median ${chain.composeMedianMs} ms ${JSON.stringify(chain.composeUpMs)}; web answers after ${chain.composeAnswerMedianMs} ms ${JSON.stringify(chain.composeAnswerMs)}`,
        `    engine floor (level by level through the API, healthcheck by exec in a loop): median ${chain.floorMedianMs} ms ${JSON.stringify(chain.floorMs)}`,
        `    ratio cmesh/compose ${chain.ratio}× (goal ≤ 0.25×: ${verdict(chain.ratio <= 0.25)}); first answer ${chain.answerRatio}×; floor/compose ${chain.floorRatio}×`,
        `(f) no-op up -d of the running chain: cmesh median ${noopUp.cmeshMedianMs} ms ${JSON.stringify(noopUp.cmeshMs)}`,
        `    docker-compose 1.29: median ${noopUp.composeMedianMs} ms ${JSON.stringify(noopUp.composeMs)}`,
        `    engine floor (the one container list, in process): median ${noopUp.floorMedianMs} ms`,
        `    ratio cmesh/compose ${noopUp.ratio}× (goal ≤ 0.2×: ${verdict(noopUp.ratio <= 0.2)})`,
      );
    }

    if (ONLY.has('b') || ONLY.has('c')) {
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
      const n = {
        containers: running,
        passMs: noop.passMs.map((x) => Number(x.toFixed(1))),
        medianMs: Number(median(noop.passMs).toFixed(1)),
        actions: noop.actions,
        scaleTo200Ms: Math.round(scale200Ms),
      };
      const m = { replicas: 30, samplesMb: rss.map((x) => Number(x.toFixed(1))), maxMb: Number(Math.max(...rss).toFixed(1)), at200Mb: Number(rss200.toFixed(1)), up30Ms: Math.round(up30Ms) };
      result['noop'] = n;
      result['rss'] = m;
      lines.push(
        `(b) no-op reconcile at ${running} containers: median ${n.medianMs} ms ${JSON.stringify(n.passMs)} actions ${JSON.stringify(n.actions)} (goal ≤ 100 ms: ${verdict(n.medianMs <= 100)})`,
        `(c) daemon VmRSS with 30 replicas: max ${m.maxMb} MB ${JSON.stringify(m.samplesMb)}; at 200: ${m.at200Mb} MB (goal ≤ 80 MB: ${verdict(m.maxMb <= 80)})`,
        `    (up of 30: ${m.up30Ms} ms; scale 30 → 200: ${n.scaleTo200Ms} ms)`,
      );
    }
    result['loadavg'] = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
    if (JSON_OUT) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else process.stdout.write(`${[`date ${result['date']}  machine ${result['machine']}  load ${result['loadavg']}`, ...lines].join('\n')}\n`);
  } finally {
    log('cleaning up');
    await sweep();
    await rm(work, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  }
}

await main();
