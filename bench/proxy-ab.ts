// A/B of the cmesh HTTP proxy between two checkouts (a base and this tree), beside the node floor, in one interleaved
// run: CPU per request is what a proxy change is judged by on a shared, loaded host (rates swing ~2× with the load).
// Usage: npx tsx bench/proxy-ab.ts --base DIR [--rounds N] [--seconds N] [--together] [--gateway | --daemon]
//   [--cpu-prof DIR] [--v8-base "…"] [--v8-head "…"] [--json]
//   DIR is another checkout of cmesh (e.g. `git archive <commit> | tar -x -C DIR`, node_modules linked in); it may be
//   this tree, to weigh V8 flags alone (--v8-head replaces head's flags, --v8-base base's; default DAEMON_V8_FLAGS).
// --gateway: base and head are each checkout's east-west gateway (bench/proxy-gateway.ts: pools, p2c, health,
//   request counts) over 3 replicas of their own, instead of the bare proxy over a round-robin pool.
// --daemon: the bare proxy wired to its checkout's DaemonMetrics as the daemon wires them (bench/proxy-daemon-path.ts:
//   per-request metrics, prom-client's default metrics with the GC-duration histogram).
// Each path is bench/proxy.ts's child mode (--serve: cmesh's proxy over a plain round-robin pool; --serve-floor) with
// the daemon's V8 flags, in front of the same 3 node echo replicas; wrk -t1 -c64 keep-alive on GET /bytes?n=1024.
// Every round runs every path once (1 s warm-up, then N s measured), the order reversed every other round; CPU is
// utime+stime from /proc/<pid>/stat over the measured seconds; the report is each ratio's median over the rounds.
// --together: base and head are loaded at the same time (one wrk each), so both see the same host in every round —
// on a host whose load swings within seconds, that pairs them better than taking turns.

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_V8_FLAGS } from '../cli/daemon-bundle.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { startEchoReplicas, waitPort } from './proxy-load.ts';
import { cpuSeconds, PATH, startReplica, type WrkResult, wrk } from './proxy-peers.ts';
import { REPLICA_HOSTS } from './proxy-gateway.ts';
import { parseWrk } from './wrk.ts';
import { benchArgs, usageError } from './args.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const USAGE = `usage: npx tsx bench/proxy-ab.ts --base DIR [--rounds N] [--seconds N] [--together] [--gateway | --daemon]
  [--cpu-prof DIR] [--v8-base "…"] [--v8-head "…"] [--json]`;
const opts = benchArgs(USAGE, {
  base: { type: 'string' },
  rounds: { type: 'number' },
  seconds: { type: 'number' },
  together: { type: 'boolean' },
  gateway: { type: 'boolean' },
  daemon: { type: 'boolean' },
  'cpu-prof': { type: 'string' },
  'v8-base': { type: 'string' },
  'v8-head': { type: 'string' },
  json: { type: 'boolean' },
});

interface Path {
  name: string;
  port: number;
  child: ChildProcess;
  /** Bytes the child's JS heap has allocated so far (V8's --trace-gc-nvp `allocated=` summed over its GCs). */
  allocated: number;
  /** Milliseconds its GCs paused the main thread so far (the same lines' `pause=`, summed). */
  gcPauseMs: number;
}

/** V8 flags of a path: --v8-base / --v8-head "…" replace the daemon's (DAEMON_V8_FLAGS), e.g. to weigh a GC setting. */
function v8Flags(name: string): string[] {
  const f = name === 'base' || name === 'head' ? opts[`v8-${name}`] : undefined;
  return f === undefined ? DAEMON_V8_FLAGS : f.split(/\s+/).filter(Boolean);
}

/**
 * One proxy child of `checkout`: bench/proxy.ts's mode --serve or --serve-floor over `upstreams`, or (mode `gateway`)
 * bench/proxy-gateway.ts driving the checkout's east-west gateway over 3 replicas of its own on 127.0.0.2–4.
 */
async function startPath(name: string, checkout: string, mode: string, upstreams: number[], replicas: ChildProcess[], prof?: string): Promise<Path> {
  const port = await freePort();
  const profFlags = prof === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${prof}`];
  if (mode === 'gateway') for (const [i, host] of REPLICA_HOSTS.entries()) replicas.push(startReplica(host, port, `web#${i + 1}`));
  const program =
    mode === 'gateway'
      ? [join(ROOT, 'bench/proxy-gateway.ts'), checkout, String(port)]
      : mode === 'daemon'
        ? [join(ROOT, 'bench/proxy-daemon-path.ts'), checkout, String(port), ...upstreams.map(String)]
        : [join(checkout, 'bench/proxy.ts'), mode, String(port), ...upstreams.map(String)];
  // --trace-gc-nvp: every GC line says how many bytes were allocated since the one before — garbage per request is
  // a figure the host's load cannot bend, unlike CPU time.
  const child = spawn(process.execPath, [...v8Flags(name), '--trace-gc-nvp', ...profFlags, '--import', 'tsx', ...program], {
    cwd: checkout,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const path: Path = { name, port, child, allocated: 0, gcPauseMs: 0 };
  let ready: () => void = () => undefined;
  const readyLine = new Promise<void>((r) => (ready = r));
  // Whole lines only: a GC line split across two chunks would read as two wrong numbers.
  let partial = '';
  child.stdout?.on('data', (d: Buffer) => {
    const lines = partial + d.toString();
    const cut = lines.lastIndexOf('\n') + 1;
    partial = lines.slice(cut);
    const text = lines.slice(0, cut);
    if (text.includes('ready\n')) ready();
    for (const m of text.matchAll(/ allocated=(\d+)/g)) path.allocated += Number(m[1]);
    for (const m of text.matchAll(/ pause=([\d.]+)/g)) path.gcPauseMs += Number(m[1]);
  });
  // The gateway says `ready` once its probes saw all 3 replicas; the other modes once they listen.
  if (mode === 'gateway') await Promise.race([readyLine, new Promise((_, reject) => setTimeout(() => reject(new Error(`${name}: gateway not ready in 20 s`)), 20_000).unref())]);
  await waitPort(port, 15_000);
  return path;
}

/** wrk without blocking the event loop, so two can run at once. */
function wrkAsync(port: number, seconds: number): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t1', '-c64', `-d${seconds}s`, `http://127.0.0.1:${port}${PATH}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', reject);
    child.on('close', () => {
      // wrk's 2 s timeouts are the host's queue at load 20+, not a broken proxy: counted apart, reported, not fatal.
      const { rps, requests, errors, timeouts } = parseWrk(out);
      if (timeouts > 0) console.error(`port ${port}: ${timeouts} wrk timeouts (a loaded host)`);
      resolve({ rps, requests, errors: errors - timeouts });
    });
  });
}

/** One path's CPU per request (total and user) over a closed loop, `load` being the wrk run that drives it. */
async function measure(p: Path, load: Promise<WrkResult>): Promise<Measured> {
  const c0 = cpuSeconds(p.child.pid!);
  const a0 = p.allocated;
  const g0 = p.gcPauseMs;
  const w = await load;
  const c1 = cpuSeconds(p.child.pid!);
  if (w.errors > 0) throw new Error(`${p.name}: ${w.errors} errors`);
  const total = ((c1.user - c0.user + c1.sys - c0.sys) * 1e6) / w.requests;
  const rss = rssMiB(p.child.pid!);
  return { total, user: ((c1.user - c0.user) * 1e6) / w.requests, rps: w.rps, heap: (p.allocated - a0) / w.requests, gc: ((p.gcPauseMs - g0) * 1000) / w.requests, rss };
}

/** Resident memory of a process now (`VmRSS`) or at its peak (`VmHWM`), MiB: what a V8 heap setting costs. */
function rssMiB(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? Number.NaN : Number(m[1]) / 1024;
}

interface Measured {
  total: number;
  user: number;
  rps: number;
  /** JS heap bytes allocated per request (to the last GC of the run: a GC's worth, ~1 MiB, of slack). */
  heap: number;
  /** µs of GC pause per request: what a V8 heap setting changes. */
  gc: number;
  /** RSS MiB right after the run (loaded). */
  rss: number;
}

function loadAvg(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 1).join('');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const base = opts.base;
  if (base === undefined) usageError('--base DIR is required', USAGE);
  const rounds = opts.rounds ?? 5;
  const seconds = opts.seconds ?? 5;
  const children: ChildProcess[] = [];
  try {
    const upstreams = await startEchoReplicas(children);
    if (opts.gateway === true && opts.daemon === true) usageError('--gateway and --daemon exclude each other', USAGE);
    const mode = opts.gateway === true ? 'gateway' : opts.daemon === true ? 'daemon' : '--serve';
    const paths = [
      await startPath('floor', ROOT, '--serve-floor', upstreams, children),
      await startPath('base', base, mode, upstreams, children),
      await startPath('head', ROOT, mode, upstreams, children, opts['cpu-prof']),
    ];
    for (const p of paths) children.push(p.child);
    // Idle RSS: started and listening, before any load.
    await new Promise((r) => setTimeout(r, 1000));
    const idleRss = Object.fromEntries(paths.map((p) => [p.name, rssMiB(p.child.pid!)]));
    const perRound: Record<string, number>[] = [];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? paths : [...paths].reverse();
      const row: Record<string, number> = {};
      const load0 = loadAvg();
      const warmThenLoad = (p: Path): Promise<WrkResult> => {
        wrk(p.port, 1);
        return wrkAsync(p.port, seconds);
      };
      const record = (p: Path, m: Measured): void => {
        row[`${p.name} µs/req`] = m.total;
        // User time alone: the proxy's own code; kernel time (the socket syscalls) is much the same for every path.
        row[`${p.name} user`] = m.user;
        row[`${p.name} req/s`] = m.rps;
        row[`${p.name} heap B/req`] = m.heap;
        row[`${p.name} gc µs/req`] = m.gc;
        row[`${p.name} rss MiB`] = m.rss;
      };
      if (opts.together === true) {
        const [floor, baseP, head] = paths as [Path, Path, Path];
        record(floor, await measure(floor, warmThenLoad(floor)));
        wrk(baseP.port, 1);
        wrk(head.port, 1);
        const [mb, mh] = await Promise.all([measure(baseP, wrkAsync(baseP.port, seconds)), measure(head, wrkAsync(head.port, seconds))]);
        record(baseP, mb);
        record(head, mh);
      } else {
        for (const p of order) record(p, await measure(p, warmThenLoad(p)));
      }
      row['head/base'] = row['head µs/req']! / row['base µs/req']!;
      row['head/floor'] = row['head µs/req']! / row['floor µs/req']!;
      row['base/floor'] = row['base µs/req']! / row['floor µs/req']!;
      row['head/base user'] = row['head user']! / row['base user']!;
      perRound.push(row);
      const f = (k: string, d = 1): string => row[k]!.toFixed(d);
      console.error(
        `round ${r + 1} (load ${load0} → ${loadAvg()}): µs/req floor ${f('floor µs/req')} base ${f('base µs/req')} head ${f('head µs/req')}; head/base ${f('head/base', 2)} (user ${f('head/base user', 2)}) head/floor ${f('head/floor', 2)} base/floor ${f('base/floor', 2)}; req/s ${f('floor req/s', 0)} / ${f('base req/s', 0)} / ${f('head req/s', 0)}; heap B/req ${f('floor heap B/req', 0)} / ${f('base heap B/req', 0)} / ${f('head heap B/req', 0)}; GC µs/req ${f('floor gc µs/req', 2)} / ${f('base gc µs/req', 2)} / ${f('head gc µs/req', 2)}; RSS MiB ${f('floor rss MiB')} / ${f('base rss MiB')} / ${f('head rss MiB')}`,
      );
    }
    // Memory after the load: idle for 3 s (V8 may shrink its young generation), and the peak over the run.
    await new Promise((r) => setTimeout(r, 3000));
    const rss = Object.fromEntries(paths.map((p) => [p.name, { idle: idleRss[p.name]!, peak: rssMiB(p.child.pid!, 'VmHWM'), after: rssMiB(p.child.pid!) }]));
    console.error(`RSS MiB idle before load / peak / idle 3 s after: ${paths.map((p) => `${p.name} ${[rss[p.name]!.idle, rss[p.name]!.peak, rss[p.name]!.after].map((x) => x.toFixed(1)).join(' / ')}`).join('; ')}`);
    const keys = Object.keys(perRound[0]!);
    const medians = Object.fromEntries(keys.map((k) => [k, median(perRound.map((row) => row[k]!))]));
    if (opts.json === true) console.log(JSON.stringify({ date: new Date().toISOString(), rounds, seconds, medians, rss, perRound }, null, 2));
    else console.log(`medians over ${rounds} rounds: ${keys.map((k) => `${k} ${medians[k]!.toFixed(k.includes('/') ? 2 : 1)}`).join(', ')}`);
  } finally {
    // SIGTERM: the proxy children exit cleanly, so a --cpu-prof profile gets written.
    for (const c of children) c.kill('SIGTERM');
  }
}

await main();
