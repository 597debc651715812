// Daemon memory over time: its VmRSS after each of N `up -d --wait` / `down` cycles of 3 services × 3 echo replicas
// (a leak shows as a staircase), plus start-up time and idle RSS, for the bundled daemon and — with --tsx — the tsx one.
// With --breakdown, also where the RSS goes (bench/daemon-memory-breakdown.ts) idle and with the 3×3 running.
// Usage: npx tsx bench/daemon-memory.ts [--cycles N] [--tsx] [--breakdown] [--json]
// Images are local (fixtures/docker/echo); never pulls. Everything is labelled dev.cmesh.test=true plus a run label and
// removed at the end, even on failure.

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs } from './args.ts';
import { type Breakdown, breakdown, probeEnv } from './daemon-memory-breakdown.ts';
import { buildFixtureImage, cleanup, newRunId, ROOT, RUN_LABEL, TEST_LABEL } from '../test/helpers/docker.ts';
import { cleanupSharedGateway } from '../test/helpers/cmesh-project-cleanup.ts';

const opts = benchArgs('usage: npx tsx bench/daemon-memory.ts [--cycles N] [--tsx] [--breakdown] [--json]', {
  cycles: { type: 'number' },
  tsx: { type: 'boolean' },
  breakdown: { type: 'boolean' },
  json: { type: 'boolean' },
});
const CYCLES = Math.min(50, opts.cycles || 10);
const runId = newRunId('bench-mem');
const project = runId;
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let work = '';
let home = '';

function cmesh(argv: string[], timeoutMs = 120_000): Promise<{ code: number | null; stderr: string; ms: number }> {
  const started = performance.now();
  const env = {
    ...process.env,
    CMESH_HOME: home,
    NO_COLOR: '1',
    CMESH_METRICS_ADDR: 'off',
    ...(opts.tsx === true ? { CMESH_DAEMON_BUNDLE: '0' } : {}),
    ...(opts.breakdown === true ? probeEnv(process.env, join(home, 'probe.jsonl')) : {}),
  };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/cmesh.js'), ...argv], { cwd: work, env, timeout: timeoutMs });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    child.on('close', (code) => resolve({ code, stderr, ms: performance.now() - started }));
  });
}

async function must(argv: string[]): Promise<number> {
  const r = await cmesh(argv);
  if (r.code !== 0) throw new Error(`cmesh ${argv.join(' ')} failed (${r.code}): ${r.stderr.slice(-1500)}`);
  return r.ms;
}

const daemonPid = async (): Promise<number> => Number.parseInt(await readFile(join(home, 'daemon.pid'), 'utf8'), 10);

async function rssMb(): Promise<number> {
  const pid = await daemonPid();
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) / 1024;
}

async function main(): Promise<void> {
  work = await mkdtemp(join(tmpdir(), 'cmesh-bench-mem-'));
  home = await mkdtemp(join(tmpdir(), 'cmh-'));
  try {
    const image = await buildFixtureImage('echo');
    const services = ['a', 'b', 'c']
      .map(
        (s) =>
          `  ${s}:\n    image: ${image}\n    environment: { SHUTDOWN_GRACE_MS: "200" }\n    expose: ["3000"]\n    deploy: { replicas: 3 }\n` +
          '    healthcheck:\n      test: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:3000/healthz"]\n      interval: 1s\n      timeout: 2s\n      retries: 3\n' +
          `    labels:\n      ${TEST_LABEL}: "true"\n      ${RUN_LABEL}: ${runId}\n`,
      )
      .join('');
    await writeFile(join(work, 'compose.yaml'), `name: ${project}\nservices:\n${services}`);
    const startMs = await must(['daemon', 'start']);
    await sleep(2000);
    const idle = await rssMb();
    const breakdowns: Record<string, Breakdown> = {};
    const probe = join(home, 'probe.jsonl');
    if (opts.breakdown === true) breakdowns['idle'] = await breakdown(await daemonPid(), probe);
    const after: number[] = [];
    const upMs: number[] = [];
    for (let i = 0; i < CYCLES; i++) {
      upMs.push(await must(['up', '-d', '--wait', '--timeout', '60']));
      if (opts.breakdown === true && (i === 0 || i === CYCLES - 1)) {
        await sleep(1500); // a probe line from after the up
        breakdowns[`up ${i + 1}`] = await breakdown(await daemonPid(), probe);
      }
      await must(['down']);
      await sleep(500);
      after.push(await rssMb());
      log(`  cycle ${i + 1}: up ${upMs.at(-1)!.toFixed(0)} ms, RSS after down ${after.at(-1)!.toFixed(1)} MB`);
    }
    const result = {
      daemon: opts.tsx === true ? 'tsx' : 'bundle',
      loadavg: (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' '),
      daemonStartMs: Math.round(startMs),
      idleMb: Number(idle.toFixed(1)),
      afterCycleMb: after.map((x) => Number(x.toFixed(1))),
      upMs: upMs.map(Math.round),
      ...(opts.breakdown === true ? { breakdowns } : {}),
    };
    process.stdout.write(opts.json === true ? `${JSON.stringify(result, null, 2)}\n` : `${JSON.stringify(result)}\n`);
  } finally {
    await cmesh(['down', '-v', '--remove-orphans'], 60_000).catch(() => undefined);
    await cmesh(['daemon', 'stop'], 30_000).catch(() => undefined);
    await cleanupSharedGateway(home).catch(() => undefined);
    await cleanup(runId).catch((e: unknown) => log(`cleanup: ${String(e)}`));
    await rm(work, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  }
}

await main();
