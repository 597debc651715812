// Every syscall per request of the product path beside the node floor's (issue #15 part 2: the kernel gap): a real
// daemon and project (bench/echo-product.ts) and the floor (bench/proxy-floor.ts) in front of the same 3 replicas,
// each loaded in turn by the same wrk while `strace -c -f` counts its syscalls (all threads), then again while
// `perf stat` counts context switches, page faults and migrations. strace slows the process, so its counts are
// per request (what it does, not how long it takes); time per request comes from bench/proxy.ts --product.
// Usage: npx tsx bench/proxy-syscalls.ts [--seconds N] [--rounds N] [--json]   (needs wrk, strace, perf; Docker)

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CmeshCli, newCmeshCli } from '../test/helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, requireDocker } from '../test/helpers/docker.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { benchArgs } from './args.ts';
import { upEchoProduct } from './echo-product.ts';
import { have, type Peer, startPeer, wrk } from './proxy-peers.ts';
import { loadAverage, median, untilServing } from './proxy-product.ts';

const USAGE = 'usage: npx tsx bench/proxy-syscalls.ts [--seconds N] [--rounds N] [--json]';
const opts = benchArgs(USAGE, { seconds: { type: 'number' }, rounds: { type: 'number' }, json: { type: 'boolean' } });
const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** `strace -c` summary rows: syscall → calls (errors counted as calls too). */
export function parseStraceSummary(text: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
    if (m && m[2] !== 'total') calls.set(m[2]!, Number(m[1]));
  }
  return calls;
}

/** `perf stat -x,` lines: event → count. */
function parsePerfStat(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    const f = line.split(',');
    if (f.length > 3 && /^\d+$/.test(f[0]!)) counts.set(f[2]!, Number(f[0]));
  }
  return counts;
}

/** Runs wrk against `port` while `tool` (strace or perf) is attached to `pid`; returns the tool's output and wrk's count. */
async function traced(tool: 'strace' | 'perf', pid: number, port: number, seconds: number, dir: string): Promise<{ out: string; requests: number }> {
  const file = join(dir, `${tool}-${pid}.txt`);
  const args =
    tool === 'strace'
      ? ['-c', '-f', '-o', file, '-p', String(pid)]
      : ['stat', '-x,', '-o', file, '-e', 'context-switches,cpu-migrations,page-faults,raw_syscalls:sys_enter', '-p', String(pid)];
  const child = spawn(tool, args, { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500)); // attached to every thread before the load starts
  const { requests } = wrk(port, seconds);
  child.kill('SIGINT');
  await new Promise((r) => child.once('exit', r));
  return { out: readFileSync(file, 'utf8'), requests };
}

async function main(): Promise<void> {
  const seconds = Math.max(1, opts.seconds ?? 3);
  const rounds = Math.max(1, opts.rounds ?? 2);
  const missing = ['wrk', 'strace', 'perf'].filter((c) => !have(c));
  if (missing.length > 0) throw new Error(`bench/proxy-syscalls: ${missing.join(', ')} not found (apt-get install -y ${missing.join(' ')}; wrk with the rest of the bench peers: scripts/install-bench-peers.sh)`);
  await requireDocker();
  const echo = await buildFixtureImage('echo');
  const runId = newRunId('bench-syscalls');
  const cli: CmeshCli = await newCmeshCli({});
  const dir = mkdtempSync(join(tmpdir(), 'cmesh-bench-syscalls-'));
  let floor: Peer | undefined;
  try {
    const { hostPort, ports, daemonPid } = await upEchoProduct(cli, runId, echo);
    floor = startPeer('floor', dir, await freePort(), ports);
    const paths = [
      { name: 'cmesh', port: hostPort, pid: daemonPid },
      { name: 'floor', port: floor.port, pid: floor.process.pid! },
    ];
    for (const p of paths) {
      await untilServing(p.name, p.port);
      wrk(p.port, 2);
    }
    const perReq = new Map<string, Map<string, number[]>>(paths.map((p) => [p.name, new Map()]));
    const add = (path: string, key: string, v: number): void => {
      const m = perReq.get(path)!;
      m.set(key, [...(m.get(key) ?? []), v]);
    };
    for (let round = 1; round <= rounds; round++) {
      log(`round ${round}/${rounds} (load ${loadAverage()})`);
      for (const p of round % 2 === 1 ? paths : [...paths].reverse()) {
        const s = await traced('strace', p.pid, p.port, seconds, dir);
        for (const [call, n] of parseStraceSummary(s.out)) add(p.name, call, n / s.requests);
        const f = await traced('perf', p.pid, p.port, seconds, dir);
        for (const [event, n] of parsePerfStat(f.out)) add(p.name, `perf:${event}`, n / f.requests);
      }
    }
    const keys = [...new Set(paths.flatMap((p) => [...perReq.get(p.name)!.keys()]))].sort();
    const cell = (path: string, k: string): number => median(perReq.get(path)!.get(k) ?? [0]);
    const rows = keys.map((k) => ({ call: k, cmesh: cell('cmesh', k), floor: cell('floor', k) }));
    if (opts.json === true) console.log(JSON.stringify({ load: loadAverage(), rounds, seconds, rows }, null, 2));
    else {
      console.log(`per request, median of ${rounds} rounds × ${seconds} s (load now ${loadAverage()})`);
      console.log('call                          cmesh      floor      diff');
      for (const r of rows.filter((x) => x.cmesh >= 0.0005 || x.floor >= 0.0005)) {
        console.log(`${r.call.padEnd(28)}${r.cmesh.toFixed(4).padStart(8)}${r.floor.toFixed(4).padStart(11)}${(r.cmesh - r.floor).toFixed(4).padStart(10)}`);
      }
    }
  } finally {
    floor?.process.kill('SIGTERM');
    await cli.teardown(runId, runId);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
