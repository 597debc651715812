// A/B of two cmesh checkouts on bench/up.ts's scenario (a): `up -d --wait` of 3 services × 3 echo replicas (1 s
// healthcheck, east-west off), each checkout through its installed bin/cmesh with a daemon of its own (own CMESH_HOME),
// interleaved round by round with docker-compose 1.29 and the probe floor (bench/up-3x3.ts) in rotating order, so the
// host's load drifts over all four alike. Per round it records the wall time and the CLI process's own CPU (user+sys,
// by /usr/bin/time: what the host's load bends least); the summary gives medians and the paired per-round ratio B ÷ A.
// After each cmesh up, NOOPS no-op `up -d --wait` of the running project: cmesh's own overhead without engine work.
// Usage: npx tsx bench/up-ab.ts --base DIR [--reps N]   (DIR: the other checkout, e.g. `git archive main | tar -x -C DIR`
// with node_modules linked; A = DIR, B = this checkout)

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createDockerEngine } from '../daemon/engine/dockerode-engine.ts';
import { buildFixtureImage, cleanup, newRunId, ROOT, RUN_LABEL, TEST_LABEL } from '../test/helpers/docker.ts';
import { benchArgs, usageError } from './args.ts';
import { median } from './median.ts';
import { composeHealthy, floorUp, writeUpFiles } from './up-3x3.ts';

const USAGE = 'usage: npx tsx bench/up-ab.ts --base DIR [--reps N]';
const opts = benchArgs(USAGE, { base: { type: 'string' }, reps: { type: 'number' } });
if (!opts.base) usageError('--base DIR (the checkout to compare against) is required', USAGE);
const REPS = opts.reps || 5;
const runId = newRunId('bench-upab');
const SCALE = ['--scale', 'a=3', '--scale', 'b=3', '--scale', 'c=3'];
/** No-op `up -d --wait` runs per cmesh up. */
const NOOPS = 3;

interface Timed {
  ms: number;
  cpuMs: number;
}

/** Runs a command under /usr/bin/time; throws on a non-zero exit. */
function timed(file: string, argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Timed> {
  const started = performance.now();
  return new Promise((done, fail) => {
    const child = spawn('/usr/bin/time', ['-f', 'CPU %U %S', file, ...argv], { cwd, env, timeout: 180_000 });
    let err = '';
    child.stdout.resume();
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const ms = performance.now() - started;
      const m = /CPU (\d+\.\d+) (\d+\.\d+)\s*$/.exec(err);
      if (code !== 0 || !m) fail(new Error(`${file} ${argv.join(' ')} exited ${code}:\n${err.slice(-1500)}`));
      else done({ ms, cpuMs: (Number(m[1]) + Number(m[2])) * 1000 });
    });
  });
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'cmesh-bench-upab-'));
  const homes = { A: await mkdtemp(join(tmpdir(), 'cmh-a-')), B: await mkdtemp(join(tmpdir(), 'cmh-b-')) };
  const roots = { A: resolve(opts.base!), B: ROOT };
  const env = (who: 'A' | 'B'): NodeJS.ProcessEnv => ({ ...process.env, CMESH_HOME: homes[who], NO_COLOR: '1', CMESH_METRICS_ADDR: 'off' });
  const cmesh = (who: 'A' | 'B', argv: string[]) => timed(join(roots[who], 'bin', 'cmesh'), argv, work, env(who));
  const labels = { [TEST_LABEL]: 'true', [RUN_LABEL]: runId };
  const engine = createDockerEngine();
  const noop = async () => 0;
  const ctx = { work, runId, labels, engine, cmesh: noop, compose: noop, composeHealthy, log: () => undefined };
  const composeProject = `${runId.replace(/-/g, '')}dc`;
  try {
    const image = await buildFixtureImage('echo');
    const files = await writeUpFiles(ctx, image);
    const noops: Record<'A' | 'B', Timed[]> = { A: [], B: [] };
    const cmeshUp = async (who: 'A' | 'B'): Promise<Timed> => {
      const upWait = ['-p', `${runId}-${who.toLowerCase()}`, '-f', files.off, 'up', '-d', '--wait', '--timeout', '60'];
      const t = await cmesh(who, upWait);
      // The same command again on the running project: no engine work but one list, so only cmesh's own overhead.
      for (let n = 0; n < NOOPS; n++) noops[who].push(await cmesh(who, upWait));
      await cmesh(who, ['-p', `${runId}-${who.toLowerCase()}`, '-f', files.off, 'down']);
      return t;
    };
    const composeUp = async (): Promise<Timed> => {
      const started = performance.now();
      const t = await timed('docker-compose', ['-p', composeProject, '-f', files.compose, 'up', '-d', ...SCALE], work, process.env);
      await composeHealthy(composeProject, 9);
      const ms = performance.now() - started;
      await timed('docker-compose', ['-p', composeProject, '-f', files.compose, 'down', '-t', '1'], work, process.env);
      return { ms, cpuMs: t.cpuMs };
    };
    const floor = async (): Promise<Timed> => ({ ms: await floorUp(ctx, image, `p${out.floor.length}`, true), cpuMs: Number.NaN });
    const out: Record<'A' | 'B' | 'compose' | 'floor', Timed[]> = { A: [], B: [], compose: [], floor: [] };
    // Warm-ups, untimed: each daemon started and its paths loaded, the project cache filled, compose's layers cached.
    for (const who of ['A', 'B'] as const) await cmeshUp(who);
    await composeUp();
    await floor();
    const contenders: ['A' | 'B' | 'compose' | 'floor', () => Promise<Timed>][] = [['A', () => cmeshUp('A')], ['B', () => cmeshUp('B')], ['compose', composeUp], ['floor', floor]];
    for (let i = 0; i < REPS; i++) {
      const load = (await readFile('/proc/loadavg', 'utf8')).split(' ')[0];
      for (let j = 0; j < contenders.length; j++) {
        const [key, run] = contenders[(i + j) % contenders.length]!;
        out[key].push(await run());
      }
      const row = Object.entries(out).map(([k, xs]) => `${k} ${xs.at(-1)!.ms.toFixed(0)}${k === 'floor' ? '' : ` (CPU ${xs.at(-1)!.cpuMs.toFixed(0)})`}`);
      process.stderr.write(`  round ${i + 1} (load ${load}): ${row.join(', ')} ms; B÷A ${(out.B.at(-1)!.ms / out.A.at(-1)!.ms).toFixed(2)}\n`);
    }
    const med = (xs: Timed[], k: keyof Timed = 'ms'): string => median(xs.map((x) => x[k])).toFixed(0);
    const paired = (a: Timed[], b: Timed[]): string => median(b.map((x, i) => x.ms / a[i]!.ms)).toFixed(2);
    const loadEnd = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
    console.log(
      [
        `${REPS} rounds, load at the end ${loadEnd}`,
        `A ${roots.A}: median ${med(out.A)} ms, CLI CPU ${med(out.A, 'cpuMs')} ms; ÷ compose ${paired(out.compose, out.A)}, ÷ probe floor ${paired(out.floor, out.A)} (paired)`,
        `B ${roots.B}: median ${med(out.B)} ms, CLI CPU ${med(out.B, 'cpuMs')} ms; ÷ compose ${paired(out.compose, out.B)}, ÷ probe floor ${paired(out.floor, out.B)} (paired)`,
        `compose median ${med(out.compose)} ms; probe floor median ${med(out.floor)} ms (÷ compose ${paired(out.compose, out.floor)})`,
        `B ÷ A paired per round: ${paired(out.A, out.B)} [${out.B.map((x, i) => (x.ms / out.A[i]!.ms).toFixed(2)).join(' ')}]`,
        `no-op up -d --wait of the running project (${NOOPS} per up, the warm-up's not counted): A median ${med(noops.A.slice(NOOPS))} ms (CPU ${med(noops.A.slice(NOOPS), 'cpuMs')}), B ${med(noops.B.slice(NOOPS))} ms (CPU ${med(noops.B.slice(NOOPS), 'cpuMs')}); B ÷ A paired ${paired(noops.A.slice(NOOPS), noops.B.slice(NOOPS))}`,
      ].join('\n'),
    );
  } finally {
    for (const who of ['A', 'B'] as const) {
      await cmesh(who, ['-p', `${runId}-${who.toLowerCase()}`, '-f', join(work, 'up-ew-off.yaml'), 'down']).catch(() => undefined);
      await cmesh(who, ['daemon', 'stop']).catch(() => undefined);
    }
    await timed('docker-compose', ['-p', composeProject, '-f', join(work, 'compose-1.29.yaml'), 'down', '-t', '1'], work, process.env).catch(() => undefined);
    await cleanup(runId).catch(() => undefined);
    for (const dir of [work, homes.A, homes.B]) await rm(dir, { recursive: true, force: true });
  }
}

await main();
