// The east-west gateway's idle cost: bench/up-3x3.ts's project (3 services × 3 echo replicas, 1 s healthchecks,
// east-west on) brought up with the real daemon, left alone for 5 s, then the gateway container's CPU (its cgroup:
// supervisor, worker and anything exec'd) and its worker's wakeups (voluntary context switches of its main thread,
// each one a return from epoll) over an idle window. Nothing calls the services: what it costs is the gateway's own
// timers, its 1 s active health checks and its reports to the daemon. A fresh `up` per rep, `down` after it.
// Usage: npx tsx bench/gateway-idle.ts [--reps N] [--idle-ms MS] [--settle-ms MS] [--json]
// Images are local (scripts/build-base-images.sh, fixtures/docker/echo). Everything is labelled dev.cmesh.test=true
// plus a run label; projects are taken down, the daemon stopped and the run's leftovers removed, even on failure.

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayName } from '../daemon/api/east-west.ts';
import { cleanupCmeshProjects, cleanupSharedGateway } from '../test/helpers/cmesh-project-cleanup.ts';
import { buildFixtureImage, cleanup, newRunId, ROOT, RUN_LABEL, TEST_LABEL } from '../test/helpers/docker.ts';
import { benchArgs } from './args.ts';
import { containerCpu, containerPids } from './cpu-meters.ts';
import { median } from './median.ts';
import { echoServices } from './up-3x3.ts';

const USAGE = 'usage: npx tsx bench/gateway-idle.ts [--reps N] [--idle-ms MS] [--settle-ms MS] [--json]';
const opts = benchArgs(USAGE, { reps: { type: 'number' }, 'idle-ms': { type: 'number' }, 'settle-ms': { type: 'number' }, json: { type: 'boolean' } });
const REPS = opts.reps || 3;
const IDLE_MS = opts['idle-ms'] || 20_000;
const SETTLE_MS = opts['settle-ms'] ?? 5000;
const runId = newRunId('bench-gwidle');
const labels = { [TEST_LABEL]: 'true', [RUN_LABEL]: runId };
const projects: string[] = [];

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let work = '';
let home = '';

/** The installed command (bin/cmesh) with this run's CMESH_HOME; rejects on a non-zero exit. */
function cmesh(argv: string[], timeoutMs = 180_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(ROOT, 'bin', 'cmesh'), argv, { cwd: work, env: { ...process.env, CMESH_HOME: home, NO_COLOR: '1' }, timeout: timeoutMs });
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`cmesh ${argv.join(' ')} failed (exit ${code}):\n${stderr.slice(-2000)}`))));
  });
}

/** up-3x3.ts's east-west-on file: the same services, healthchecks and labels. */
async function writeProject(image: string): Promise<string> {
  const file = join(work, 'idle.yaml');
  await writeFile(file, `x-cmesh: { east_west: true }\nservices:\n${echoServices(labels, image, true)}`);
  return file;
}

/** Voluntary context switches so far of a process's main thread: each is a sleep in epoll ended by a wakeup. */
async function wakeups(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
}

/** The gateway worker's host pid: the container process running /run/cmesh/worker-<hash>.mjs (supervisor.ts forks it). */
async function workerPid(container: string): Promise<number | undefined> {
  for (const pid of await containerPids(container)) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (/worker-[^/]*\.mjs/.test(cmd)) return pid;
  }
  return undefined;
}

interface Sample {
  cpuMsPerS: number;
  wakeupsPerS: number;
}

async function rep(file: string, i: number): Promise<Sample> {
  const project = `${runId}-r${i}`;
  projects.push(project);
  await cmesh(['-p', project, '-f', file, 'up', '-d', '--wait', '--timeout', '60']);
  try {
    await sleep(SETTLE_MS);
    const gateway = gatewayName(project);
    const cpu = await containerCpu(gateway);
    const pid = await workerPid(gateway);
    const cpu0 = cpu();
    const wake0 = pid === undefined ? Number.NaN : await wakeups(pid);
    const t0 = performance.now();
    await sleep(IDLE_MS);
    const seconds = (performance.now() - t0) / 1000;
    const sample = { cpuMsPerS: ((cpu() - cpu0) * 1000) / seconds, wakeupsPerS: ((pid === undefined ? Number.NaN : await wakeups(pid)) - wake0) / seconds };
    log(`  rep ${i + 1}: gateway ${sample.cpuMsPerS.toFixed(2)} ms CPU/s, worker ${sample.wakeupsPerS.toFixed(1)} wakeups/s`);
    return sample;
  } finally {
    await cmesh(['-p', project, '-f', file, 'down']);
  }
}

async function main(): Promise<void> {
  work = await mkdtemp(join(tmpdir(), 'cmesh-bench-gwidle-'));
  // Short: the daemon's unix sockets live under it.
  home = await mkdtemp(join(tmpdir(), 'cmh-'));
  try {
    const image = await buildFixtureImage('echo');
    const file = await writeProject(image);
    await cmesh(['daemon', 'start']);
    log(`gateway idle: ${REPS} reps of up (3×3 east-west on), ${SETTLE_MS} ms settle, ${IDLE_MS} ms idle`);
    const loadBefore = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
    const samples: Sample[] = [];
    for (let i = 0; i < REPS; i++) samples.push(await rep(file, i));
    const loadAfter = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
    const result = {
      date: new Date().toISOString(),
      machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? '?'}, node ${process.version}`,
      load: { before: loadBefore, after: loadAfter },
      idleMs: IDLE_MS,
      cpuMsPerS: samples.map((s) => Number(s.cpuMsPerS.toFixed(2))),
      wakeupsPerS: samples.map((s) => Number(s.wakeupsPerS.toFixed(1))),
      cpuMsPerSMedian: Number(median(samples.map((s) => s.cpuMsPerS)).toFixed(2)),
      wakeupsPerSMedian: Number(median(samples.map((s) => s.wakeupsPerS)).toFixed(1)),
    };
    if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else
      process.stdout.write(
        `date ${result.date}  machine ${result.machine}  load ${loadBefore} → ${loadAfter}\n` +
          `gateway container CPU, idle ${IDLE_MS / 1000} s: median ${result.cpuMsPerSMedian} ms/s ${JSON.stringify(result.cpuMsPerS)}\n` +
          `gateway worker wakeups (main thread, voluntary switches): median ${result.wakeupsPerSMedian}/s ${JSON.stringify(result.wakeupsPerS)}\n`,
      );
  } finally {
    log('cleaning up');
    // A failed step is logged, not fatal: every later one still runs, and what is left is removed by label.
    const step = (what: string, p: Promise<unknown>): Promise<unknown> => p.catch((e: unknown) => log(`cleanup: ${what}: ${String(e)}`));
    for (const project of projects) await step(`${project} down`, cmesh(['-p', project, '-f', 'idle.yaml', 'down', '-v', '--remove-orphans']));
    await step('daemon stop', cmesh(['daemon', 'stop'], 30_000));
    // The daemon keeps its shared gateway while a project is on it: one a failed down left is removed here.
    await step('shared gateway', cleanupSharedGateway(home));
    await step('run cleanup', cleanup(runId));
    if (projects.length > 0) await step('project cleanup', cleanupCmeshProjects(projects));
    await rm(work, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  }
}

await main();
