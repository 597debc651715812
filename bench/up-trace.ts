// Where an `up` spends its time: one `cmesh up -d --wait` of bench (a)'s 3 × 3 project (east-west off, or on with
// --east-west), with the daemon's event stream and the engine's own events (`docker events`, nanosecond stamps)
// recorded beside it, printed as one timeline from the CLI's spawn plus the phases that matter: the request reaching
// the pass, the creates, the first and last start, the last readiness (start probe or Docker's healthcheck), exit.
// With --chain, bench (e)'s depends_on chain instead (db ← api1, api2 ← web, healthcheck interval 5 s). With --floor,
// bench (a)'s probe floor (the same 9 containers through the engine API from this process, exec probes from each start)
// on the same timeline, so the two can be laid side by side phase by phase.
// Usage: npx tsx bench/up-trace.ts [--east-west | --chain | --floor] [--full] [--cold]   (--full also prints every exec;
// --cold: no untimed warm-up up first, the daemon's first up)

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFixtureImage, cleanup, newRunId, ROOT, RUN_LABEL, TEST_LABEL } from '../test/helpers/docker.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { createDockerEngine } from '../daemon/engine/dockerode-engine.ts';
import { floorUp, writeUpFiles } from './up-3x3.ts';
import { writeChainFile } from './up-chain.ts';
import { benchArgs, usageError } from './args.ts';
import { cleanupSharedGateway } from '../test/helpers/cmesh-project-cleanup.ts';

const USAGE = 'usage: npx tsx bench/up-trace.ts [--east-west | --chain | --floor] [--full] [--cold]   (--full also prints every exec the engine ran)';
const opts = benchArgs(USAGE, { 'east-west': { type: 'boolean' }, chain: { type: 'boolean' }, floor: { type: 'boolean' }, full: { type: 'boolean' }, cold: { type: 'boolean' } });
if ([opts['east-west'], opts.chain, opts.floor].filter((x) => x === true).length > 1) usageError('--east-west, --chain and --floor are different runs: pick one', USAGE);
const FLOOR = opts.floor === true;
const EAST_WEST = opts['east-west'] === true;
const FULL = opts.full === true;
const CHAIN = opts.chain === true;
const COLD = opts.cold === true;
const runId = newRunId('bench-trace');
const project = `${runId}-${CHAIN ? 'ch' : EAST_WEST ? 'ew' : 'cm'}`;

interface Line {
  at: number;
  source: 'cmesh' | 'engine';
  text: string;
}

function collect(child: ChildProcess, onLine: (line: string) => void): void {
  let rest = '';
  child.stdout?.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) if (p.trim()) onLine(p);
  });
}

/**
 * Per container, from its start to its first sign of readiness (cmesh's probe pass or Docker's healthy): less bent by
 * the host's load than the whole up, which adds the CLI's start. Not for the floor: the engine's events do not say
 * whose exec (the floor's or Docker's healthcheck) passed.
 */
function readiness(lines: readonly Line[], prefix: string): string {
  const lags: number[] = [];
  let byProbe = 0;
  for (const start of lines.filter((l) => l.source === 'engine' && /^start /.test(l.text))) {
    const name = start.text.slice('start '.length);
    const replica = /-([a-z]+)-(\d+)$/.exec(name);
    const probe = lines.find((l) => l.at >= start.at && replica && l.text.startsWith(`health ${replica[1]} ${replica[2]} probe `));
    const docker = lines.find((l) => l.at >= start.at && l.text === `health_status healthy ${name}`);
    const ready = [probe, docker].filter((l) => l !== undefined).sort((a, b) => a.at - b.at)[0];
    if (!ready || !name.startsWith(prefix)) continue;
    if (ready === probe) byProbe++;
    lags.push(ready.at - start.at);
  }
  lags.sort((a, b) => a - b);
  const mid = lags[Math.floor(lags.length / 2)] ?? 0;
  return `start → ready per container: median ${mid} ms, max ${lags.at(-1) ?? 0} ms over ${lags.length}; first judged by the start probe ${byProbe}, by Docker ${lags.length - byProbe}`;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'cmesh-trace-'));
  const home = await mkdtemp(join(tmpdir(), 'cmh-'));
  const env = { ...process.env, CMESH_HOME: home, NO_COLOR: '1' };
  // The installed command (bin/cmesh: its sh launcher, then node), as bench/up.ts and a CI script run it.
  const cli = (argv: string[]) => spawn(join(ROOT, 'bin', 'cmesh'), argv, { cwd: work, env });
  const done = (child: ChildProcess) => new Promise<number | null>((r) => child.on('close', r));
  const lines: Line[] = [];
  const children: ChildProcess[] = [];
  try {
    const image = await buildFixtureImage('echo');
    const labels = { [TEST_LABEL]: 'true', [RUN_LABEL]: runId };
    const ctx = { work, runId, labels, engine: createDockerEngine(), cmesh: async () => 0, compose: async () => 0, composeHealthy: async () => {}, log: () => {} };
    const files = await writeUpFiles(ctx, image);
    const file = CHAIN ? await writeChainFile(ctx, await freePort()) : EAST_WEST ? files.on : files.off;
    if (!FLOOR) {
      await done(cli(['daemon', 'start']));
      // bench/up.ts times warm ups: one untimed up and down first (the daemon's paths loaded, the image checked, the
      // project cache filled so `up -d --wait` takes the CLI's fast path). --cold traces a new daemon's first up.
      if (!COLD) for (const verb of [['up', '-d', '--wait', '--timeout', '60'], ['down']]) await done(cli(['-p', project, '-f', file, ...verb]));
      const events = cli(['-p', project, 'events', '--json']);
      children.push(events);
      collect(events, (l) => {
        const e = JSON.parse(l) as Record<string, unknown>;
        const what = ['type', 'action', 'phase', 'service', 'replica', 'source', 'reason'].map((k) => e[k] ?? '').filter((x) => x !== '');
        lines.push({ at: Number(e['time']), source: 'cmesh', text: what.join(' ') });
      });
    }
    const filter = FLOOR ? `label=${RUN_LABEL}=${runId}` : `label=dev.cmesh.project=${project}`;
    // `|` between the fields: a health action carries a space ("health_status: healthy").
    const engine = spawn('docker', ['events', '--filter', filter, '--format', '{{.TimeNano}}|{{.Action}}|{{index .Actor.Attributes "name"}}']);
    children.push(engine);
    collect(engine, (l) => {
      const [ns, action, name] = l.split('|');
      lines.push({ at: Number(BigInt(ns!) / 1_000_000n), source: 'engine', text: `${action?.replace(/: /, ' ')} ${name}` });
    });
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    // The floor removes its containers before it returns; its time is the one it measured up to the last pass.
    const code = FLOOR ? 0 : await done(cli(['-p', project, '-f', file, 'up', '-d', '--wait', '--timeout', '60']));
    const t1 = FLOOR ? t0 + Math.round(await floorUp(ctx, image, 'trace', true)) : Date.now();
    await new Promise((r) => setTimeout(r, 300));
    for (const c of children) c.kill();
    if (!FLOOR) {
      await done(cli(['-p', project, '-f', file, 'down']));
      await done(cli(['daemon', 'stop']));
      await cleanupSharedGateway(home).catch(() => undefined);
    }
    const load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
    const rel = (l: Line) => l.at - t0;
    lines.sort((a, b) => a.at - b.at);
    const first = (re: RegExp, source?: Line['source']) => lines.find((l) => re.test(l.text) && (!source || l.source === source));
    const last = (re: RegExp, source?: Line['source']) => lines.filter((l) => re.test(l.text) && (!source || l.source === source)).at(-1);
    for (const l of lines) if ((FULL || !/^exec_/.test(l.text)) && (!FLOOR || l.at <= t1)) console.log(`${String(rel(l)).padStart(6)} ms  ${l.source.padEnd(6)} ${l.text}`);
    const at = (l: Line | undefined) => (l ? `${rel(l)} ms` : '-');
    console.log(
      [
        FLOOR ? `probe floor ready after ${t1 - t0} ms (load ${load})` : `up exit ${code} after ${t1 - t0} ms (load ${load}, east-west ${EAST_WEST ? 'on' : 'off'})`,
        `  pass starts        ${at(first(/^reconcile start/))}`,
        `  first/last create  ${at(first(/^create /, 'engine'))} / ${at(last(/^create /, 'engine'))}`,
        `  first/last start   ${at(first(/^start /, 'engine'))} / ${at(last(/^start /, 'engine'))}`,
        `  last probe pass    ${at(last(/probe start probe passed/))}; Docker healthy: ${lines.filter((l) => /^health_status/.test(l.text) && l.at <= t1).length} before exit`,
        `  execs by the engine before exit: ${lines.filter((l) => /^exec_start/.test(l.text) && l.at <= t1).length}`,
        ...(FLOOR ? [] : [`  ${readiness(lines, project)}`]),
      ].join('\n'),
    );
  } finally {
    for (const c of children) c.kill();
    await cleanup(runId).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  }
}

await main();
