// Engine API calls per 3×3 `up -d --wait`, cmesh vs the probe floor: a load-proof count of the work cmesh asks of
// dockerd (every call is dockerd CPU on the same 2 cores the 9 starts need), and a timeline of when each call was made,
// from the CLI's spawn. A unix-socket forwarder in this process counts every HTTP request line it passes on; the
// daemon (and the CLI) reach the engine through it by DOCKER_HOST, the floor by its engine's host option.
// With --base DIR, a second cmesh checkout (A, its own daemon and home) joins the rounds beside this one (B), and the
// summary pairs B with A round by round on the phase before the engine's starts: spawn → the last start asked (what
// the engine cannot bend much: no start has run yet), and on the whole up.
// Each cmesh up also says what its containers had used at the verdict (cgroups, and their shims with the runc runs they
// reaped: bench/container-cpu.ts), the east-west gateway apart. --east-west: the project with east-west on (the default).
// Usage: npx tsx bench/up-engine-calls.ts [--reps N] [--timeline] [--base DIR] [--east-west]   (default 1 rep each, after
// one untimed warm-up each; DIR e.g. `git archive main | tar -x -C DIR` with node_modules linked)

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Labels } from '../daemon/api/labels.ts';
import { createDockerEngine } from '../daemon/engine/dockerode-engine.ts';
import { buildFixtureImage, cleanup, newRunId, ROOT, RUN_LABEL, TEST_LABEL } from '../test/helpers/docker.ts';
import { benchArgs } from './args.ts';
import { containersCpu, cpuMs } from './container-cpu.ts';
import { median } from './median.ts';
import { FLOOR, runVariant } from './floor-up.ts';
import { writeUpFiles } from './up-3x3.ts';
import { cleanupSharedGateway } from '../test/helpers/cmesh-project-cleanup.ts';

const USAGE = 'usage: npx tsx bench/up-engine-calls.ts [--reps N] [--timeline] [--base DIR] [--east-west]';
const opts = benchArgs(USAGE, { reps: { type: 'number' }, timeline: { type: 'boolean' }, base: { type: 'string' }, 'east-west': { type: 'boolean' } });
const REPS = opts.reps || 1;
const ENGINE_SOCKET = '/var/run/docker.sock';
const REQUEST_LINE = /(?:^|\r\n)(GET|POST|PUT|DELETE|HEAD) (\S+) HTTP\/1\.[01]\r\n/g;

async function pidOf(name: string): Promise<number | undefined> {
  const out = await new Promise<string>((r) => {
    const c = spawn('pgrep', ['-x', name]);
    let text = '';
    c.stdout.on('data', (d: Buffer) => (text += d.toString()));
    c.on('close', () => r(text));
  });
  const pid = Number(out.split('\n')[0]);
  return Number.isFinite(pid) && pid > 0 ? pid : undefined;
}

interface Call {
  at: number;
  what: string;
}

/** The call's kind: ids, names and query strings out, so 9 creates read as one row. */
export function callKind(method: string, path: string): string {
  const bare = path.split('?')[0]!.replace(/^\/v[\d.]+/, '');
  const parts = bare.split('/').filter(Boolean);
  // /containers/{id}/start, /exec/{id}/json, /networks/{name}, /images/{name}/json (names may hold slashes: keep the verb)
  const head = parts[0] ?? '';
  const tail = parts.length > 2 ? parts.at(-1)! : parts.length === 2 && !['create', 'json', 'prune'].includes(parts[1]!) ? '{id}' : parts[1] ?? '';
  return `${method} /${head}${parts.length > 1 ? `/${parts.length > 2 ? '{id}/' : ''}${tail}` : ''}`;
}

/** A forwarder to the engine's socket that records every request line a client sends (keep-alive and hijacks too). */
async function countingProxy(path: string, calls: Call[]): Promise<() => Promise<void>> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection(ENGINE_SOCKET);
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => {
      for (const m of chunk.toString('latin1').matchAll(REQUEST_LINE)) calls.push({ at: Date.now(), what: callKind(m[1]!, m[2]!) });
      upstream.write(chunk);
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(path, r));
  return async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  };
}

function tally(calls: readonly Call[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of calls) out.set(c.what, (out.get(c.what) ?? 0) + 1);
  return new Map([...out].sort((a, b) => b[1] - a[1]));
}

async function main(): Promise<void> {
  const runId = newRunId('bench-calls');
  const work = await mkdtemp(join(tmpdir(), 'cmesh-calls-'));
  const home = await mkdtemp(join(tmpdir(), 'cmh-'));
  const sock = join(work, 'engine.sock');
  const calls: Call[] = [];
  const stop = await countingProxy(sock, calls);
  const homeA = await mkdtemp(join(tmpdir(), 'cmh-a-'));
  const checkouts: Record<string, { root: string; home: string }> = { cmesh: { root: ROOT, home } };
  if (opts.base) checkouts['base'] = { root: resolve(opts.base), home: homeA };
  const cli = (argv: string[], who = 'cmesh'): ChildProcess => {
    const { root, home: h } = checkouts[who]!;
    const env = { ...process.env, CMESH_HOME: h, NO_COLOR: '1', DOCKER_HOST: `unix://${sock}` };
    return spawn(join(root, 'bin', 'cmesh'), argv, { cwd: work, env, stdio: 'ignore' });
  };
  const done = (child: ChildProcess) => new Promise<number | null>((r) => child.on('close', r));
  const labels = { [TEST_LABEL]: 'true', [RUN_LABEL]: runId };
  const engine = createDockerEngine({ host: `unix://${sock}` });
  const load = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  const rows: { who: string; total: number; ms: number; startsAskedMs: number; cpu: string; kinds: Map<string, number>; timeline: Call[]; t0: number }[] = [];
  const dockerd = await pidOf('dockerd');
  const containerd = await pidOf('containerd');
  const daemonPid = async (who: string) => Number(await readFile(join(checkouts[who]!.home, 'daemon.pid'), 'utf8').catch(() => '')) || undefined;
  try {
    const image = await buildFixtureImage('echo');
    const ctx = { work, runId, labels, engine, cmesh: async () => 0, compose: async () => 0, composeHealthy: async () => {}, log: () => {} };
    const files = await writeUpFiles(ctx, image);
    const file = opts['east-west'] === true ? files.on : files.off;
    const project = (who: string) => `${runId}-${who === 'base' ? 'a' : 'b'}`;
    const up = (who: string) => ['-p', project(who), '-f', file, 'up', '-d', '--wait', '--timeout', '60'];
    const down = (who: string) => ['-p', project(who), '-f', file, 'down'];
    for (const who of Object.keys(checkouts)) {
      await done(cli(['daemon', 'start'], who));
      await done(cli(up(who), who));
      await done(cli(down(who), who));
    }
    await runVariant(engine, image, labels, FLOOR, `${runId}-warm`);
    process.stderr.write(`load before ${await load()}\n`);
    for (let i = 0; i < REPS; i++) {
      const all = [...Object.keys(checkouts), 'floor'];
      for (const who of all.map((_, j) => all[(i + j) % all.length]!)) {
        await new Promise((r) => setTimeout(r, 300)); // the previous down's stragglers (event streams) settle
        const from = calls.length;
        const client = who === 'floor' ? process.pid : await daemonPid(who);
        const cpu0 = await Promise.all([dockerd, containerd, client].map(cpuMs));
        const t0 = Date.now();
        let ms: number;
        let inContainers = '';
        if (who !== 'floor') {
          const code = await done(cli(up(who), who));
          ms = Date.now() - t0;
          if (code !== 0) throw new Error(`cmesh up exited ${code}`);
        } else {
          // The floor's removal runs inside runVariant: count only up to its verdict.
          const run = runVariant(engine, image, labels, FLOOR, `${runId}-f${i}`);
          ms = (await run).wholeMs;
        }
        const mine = calls.slice(from).filter((c) => c.at <= t0 + ms);
        const cpu1 = await Promise.all([dockerd, containerd, client].map(cpuMs));
        if (who !== 'floor') {
          // After the engine's CPU is read: this list is not the up's.
          const mine = await engine.listContainers({ labels: { [Labels.project]: project(who) }, all: true });
          const gateway = new Set(mine.filter((c) => c.name.endsWith('-cmesh-gateway')).map((c) => c.id));
          const used = await containersCpu(mine.map((c) => c.id), gateway);
          inContainers = `, containers ${used.containersMs} ms (gateway ${used.pickedMs}), their shims and runc ${used.shimsMs} ms`;
        }
        const cpu = `dockerd ${cpu1[0]! - cpu0[0]!} ms, containerd ${cpu1[1]! - cpu0[1]!} ms, ${who === 'floor' ? 'bench process' : 'daemon'} ${cpu1[2]! - cpu0[2]!} ms${inContainers}`;
        const startsAskedMs = (mine.filter((c) => c.what === 'POST /containers/{id}/start').at(-1)?.at ?? Number.NaN) - t0;
        rows.push({ who, total: mine.length, ms: Math.round(ms), startsAskedMs, cpu, kinds: tally(mine), timeline: mine, t0 });
        if (who !== 'floor') await done(cli(down(who), who));
      }
    }
    process.stderr.write(`load after ${await load()}  (${new Date().toISOString()})\n`);
  } finally {
    for (const who of Object.keys(checkouts)) await done(cli(['daemon', 'stop'], who)).catch(() => undefined);
    for (const { home: h } of Object.values(checkouts)) await cleanupSharedGateway(h).catch(() => undefined);
    await stop();
    await cleanup(runId).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
    await rm(homeA, { recursive: true, force: true });
  }
  for (const r of rows) {
    process.stdout.write(`${r.who}: ${r.total} engine calls up to the verdict (${r.ms} ms; last start asked at ${r.startsAskedMs} ms; CPU ${r.cpu})\n`);
    for (const [k, n] of r.kinds) process.stdout.write(`  ${String(n).padStart(4)}  ${k}\n`);
    if (opts.timeline) for (const c of r.timeline) process.stdout.write(`    ${String(c.at - r.t0).padStart(6)} ms  ${c.what}\n`);
  }
  const of = (who: string) => rows.filter((r) => r.who === who);
  for (const who of [...new Set(rows.map((r) => r.who))]) {
    const mine = of(who);
    process.stdout.write(`${who.padEnd(6)} calls ${JSON.stringify(mine.map((r) => r.total))}  last start asked ${JSON.stringify(mine.map((r) => r.startsAskedMs))} ms (median ${median(mine.map((r) => r.startsAskedMs))})  whole ${JSON.stringify(mine.map((r) => r.ms))} ms (median ${median(mine.map((r) => r.ms))})\n`);
  }
  if (opts.base) {
    const a = of('base');
    const b = of('cmesh');
    const diff = b.map((r, i) => r.startsAskedMs - a[i]!.startsAskedMs);
    const ratio = b.map((r, i) => r.ms / a[i]!.ms);
    process.stdout.write(`paired B − A, last start asked: ${JSON.stringify(diff)} ms (median ${median(diff)}); B ÷ A whole: ${JSON.stringify(ratio.map((x) => Number(x.toFixed(2))))} (median ${median(ratio).toFixed(2)})\n`);
  }
}

await main();
