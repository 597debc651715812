// Instructions and GC per request, the daemon path beside the node floor: a measure the host's load cannot bend
// (time per request swings ±20 % between runs here; instruction counts do not).
// Usage: npx tsx bench/proxy-instructions.ts [--windows N] [--requests N] [--warmup N] [--connections N]
//   [--pool round-robin|service] [--without metrics,defaults] [--v8-flags "…"] [--keep] [--json]
// --keep leaves the callgrind dumps (one a window, `<path>.callgrind.<n>`) for callgrind_annotate and prints their dir.
// Both paths run under `valgrind --tool=callgrind --smc-check=all-non-file` (V8's JIT on) with the daemon's V8 flags
// and --trace-gc-nvp, over the same 3 node echo replicas: the daemon path is bench/proxy-daemon-path.ts (this tree's
// proxy wired to DaemonMetrics as the daemon wires it, GC-duration observer included, over the product's ServicePool
// with its default balancer unless --pool round-robin), the floor bench/proxy-floor.ts
// (bench/proxy.ts --serve-floor). After the warm-up, each window zeroes the counters (`callgrind_control -z`), sends
// exactly N keep-alive GETs of the bench's 1 KiB response to each path at once, and dumps (`callgrind_control -d`):
// instructions of all the process's threads, less its idle rate (the least of 4 windows of 3 s without traffic) over
// the window's duration, ÷ N. The GC lines of the same window give scavenges, major GCs, bytes allocated and bytes
// promoted per request (a scavenge's survivors go to old space at the 1 MiB semi-space).
// Reported: each figure's median over the windows, and daemon ÷ floor instructions per window → median.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_V8_FLAGS } from '../cli/daemon-bundle.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { benchArgs } from './args.ts';
import { median } from './median.ts';
import { startEchoReplicas, waitPort } from './proxy-load.ts';
import { load } from './fixed-load.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const USAGE = `usage: npx tsx bench/proxy-instructions.ts [--windows N] [--requests N] [--warmup N] [--connections N]
  [--pool round-robin|service] [--without metrics,defaults] [--v8-flags "…"] [--keep] [--json]`;
const opts = benchArgs(USAGE, {
  windows: { type: 'number' },
  requests: { type: 'number' },
  warmup: { type: 'number' },
  connections: { type: 'number' },
  // The daemon path's pool and what it leaves out (bench/proxy-daemon-path.ts): what the balancer and each metric cost.
  pool: { type: 'string', choices: ['round-robin', 'service'] },
  without: { type: 'string' },
  // Replaces the daemon's V8 flags (DAEMON_V8_FLAGS) on both paths, as bench/proxy.ts --product's floor follows them:
  // e.g. "--max-semi-space-size=8" to weigh a young-generation size ("" for node's defaults).
  'v8-flags': { type: 'string' },
  keep: { type: 'boolean' },
  json: { type: 'boolean' },
});

const V8_FLAGS = opts['v8-flags'] === undefined ? DAEMON_V8_FLAGS : opts['v8-flags'].split(/\s+/).filter(Boolean);

/** One window's figures per request. */
interface Window {
  instructions: number;
  scavenges: number;
  majors: number;
  allocated: number;
  promoted: number;
}

class Path {
  readonly child: ChildProcess;
  #gc = { scavenges: 0, majors: 0, allocated: 0, promoted: 0 };
  #mark = { ...this.#gc };
  #dumps = 0;
  #zeroedAt = 0;
  /** Instructions per second with no request in flight (timers, metrics' samplers, the proxy's ticker). */
  idlePerSecond = 0;

  constructor(
    readonly name: string,
    readonly port: number,
    readonly dir: string,
    program: string[],
  ) {
    const out = join(dir, `${name}.callgrind`);
    const node = [process.execPath, ...V8_FLAGS, '--trace-gc-nvp', '--import', 'tsx', ...program];
    const env = { ...process.env, CMESH_BENCH_POOL: opts.pool ?? 'service', CMESH_BENCH_WITHOUT: opts.without ?? '' };
    this.child = spawn('valgrind', ['--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${out}`, ...node], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'ignore'] });
    let partial = '';
    this.child.stdout?.on('data', (d: Buffer) => {
      const text = partial + d.toString();
      const cut = text.lastIndexOf('\n') + 1;
      partial = text.slice(cut);
      for (const line of text.slice(0, cut).split('\n')) {
        if (!line.includes(' gc=')) continue;
        if (line.includes(' gc=s ')) this.#gc.scavenges++;
        else this.#gc.majors++;
        this.#gc.allocated += Number(/ allocated=(\d+)/.exec(line)?.[1] ?? 0);
        this.#gc.promoted += Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0);
      }
    });
  }

  /** Counters to zero: callgrind's and the GC tally's. */
  zero(): void {
    control('-z', this.child.pid!);
    this.#zeroedAt = performance.now();
    this.#mark = { ...this.#gc };
  }

  /** Dumps the counters and reads the window's total instructions from the new dump file. */
  /**
   * What the process does per second without traffic, subtracted from every window: the least of `n` idle windows
   * of `ms` — right after a load V8 finishes compiles and its memory reducer may run a major GC, which is not the
   * steady per-second work (5 M instructions/s in one such window, 1 M in the next).
   */
  async measureIdle(n: number, ms: number): Promise<void> {
    let least = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      this.zero();
      await new Promise((r) => setTimeout(r, ms));
      control('-d', this.child.pid!);
      const seconds = (performance.now() - this.#zeroedAt) / 1000;
      this.#dumps++;
      least = Math.min(least, this.#total() / seconds);
    }
    this.idlePerSecond = least;
  }

  #total(): number {
    const file = join(this.dir, `${this.name}.callgrind.${this.#dumps}`);
    const total = /^(?:summary|totals): (\d+)/m.exec(readFileSync(file, 'utf8'));
    if (total === null) throw new Error(`${file}: no totals line`);
    return Number(total[1]);
  }

  /**
   * Dumps the counters: the window's instructions less the idle rate over its duration (under valgrind a request
   * takes ~50× longer, so per-second work would otherwise weigh on every request as if the host were slow).
   */
  dump(requests: number): Window {
    control('-d', this.child.pid!);
    const seconds = (performance.now() - this.#zeroedAt) / 1000;
    this.#dumps++;
    const total = this.#total() - this.idlePerSecond * seconds;
    const g = this.#gc;
    const m = this.#mark;
    return {
      instructions: total / requests,
      scavenges: (g.scavenges - m.scavenges) / requests,
      majors: (g.majors - m.majors) / requests,
      allocated: (g.allocated - m.allocated) / requests,
      promoted: (g.promoted - m.promoted) / requests,
    };
  }
}

function control(flag: '-z' | '-d', pid: number): void {
  const r = spawnSync('callgrind_control', [flag, String(pid)], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`callgrind_control ${flag} ${pid}: ${r.stderr || r.stdout}`);
}

async function main(): Promise<void> {
  const windows = opts.windows ?? 10;
  const requests = opts.requests ?? 5000;
  const connections = opts.connections ?? 16;
  const dir = mkdtempSync(join(tmpdir(), 'proxy-instructions-'));
  const children: ChildProcess[] = [];
  try {
    const upstreams = await startEchoReplicas(children);
    const ups = upstreams.map(String);
    const [daemonPort, floorPort] = [await freePort(), await freePort()];
    const paths = [
      new Path('daemon', daemonPort, dir, [join(ROOT, 'bench/proxy-daemon-path.ts'), ROOT, String(daemonPort), ...ups]),
      new Path('floor', floorPort, dir, [join(ROOT, 'bench/proxy.ts'), '--serve-floor', String(floorPort), ...ups]),
    ];
    for (const p of paths) children.push(p.child);
    // tsx transpiles at start: under valgrind that takes a minute or more on a loaded host.
    for (const p of paths) await waitPort(p.port, 600_000);
    const warmup = opts.warmup ?? 6000;
    await Promise.all(paths.map((p) => load(p.name, p.port, warmup, connections)));
    await Promise.all(paths.map((p) => p.measureIdle(4, 3000)));
    console.error(`idle instructions per second: ${paths.map((p) => `${p.name} ${(p.idlePerSecond / 1e6).toFixed(2)} M`).join(', ')}`);
    const rows: Record<string, Window>[] = [];
    for (let w = 0; w < windows; w++) {
      for (const p of paths) p.zero();
      await Promise.all(paths.map((p) => load(p.name, p.port, requests, connections)));
      const row = Object.fromEntries(paths.map((p) => [p.name, p.dump(requests)]));
      rows.push(row);
      const d = row['daemon']!;
      const f = row['floor']!;
      console.error(
        `window ${w + 1} (load ${loadavg()[0]!.toFixed(1)}): instructions/req daemon ${d.instructions.toFixed(0)} floor ${f.instructions.toFixed(0)} ratio ${(d.instructions / f.instructions).toFixed(3)}; scavenges/1k req ${(d.scavenges * 1000).toFixed(2)} / ${(f.scavenges * 1000).toFixed(2)}; promoted B/req ${d.promoted.toFixed(0)} / ${f.promoted.toFixed(0)}; allocated B/req ${d.allocated.toFixed(0)} / ${f.allocated.toFixed(0)}; majors ${d.majors * requests} / ${f.majors * requests}`,
      );
    }
    const med = (name: string, k: keyof Window): number => median(rows.map((r) => r[name]![k]));
    const ratio = median(rows.map((r) => r['daemon']!.instructions / r['floor']!.instructions));
    // A major GC adds 10–20 k instructions to its window's requests and falls on a window by chance: the median over
    // the windows without one (in that process) is the steadier figure to compare two codes by.
    const minorOnly = (name: string): number => median(rows.filter((r) => r[name]!.majors === 0).map((r) => r[name]!.instructions));
    // With a large young generation a scavenge falls on only some windows: the mean over all windows spreads its cost.
    const mean = (name: string): number => rows.reduce((sum, r) => sum + r[name]!.instructions, 0) / rows.length;
    const summary = Object.fromEntries(
      paths.map((p) => [p.name, { instructions: med(p.name, 'instructions'), mean: mean(p.name), withoutMajorGc: minorOnly(p.name), scavengesPer1k: med(p.name, 'scavenges') * 1000, promoted: med(p.name, 'promoted'), allocated: med(p.name, 'allocated') }]),
    );
    if (opts.json === true) console.log(JSON.stringify({ date: new Date().toISOString(), windows, requests, connections, ratio, summary, rows }, null, 2));
    else {
      for (const [name, s] of Object.entries(summary)) {
        console.log(
          `${name}: ${s.instructions.toFixed(0)} instructions/req (mean ${s.mean.toFixed(0)}; ${s.withoutMajorGc.toFixed(0)} in windows without a major GC), ${s.scavengesPer1k.toFixed(2)} scavenges per 1k req, promoted ${s.promoted.toFixed(0)} B/req, allocated ${s.allocated.toFixed(0)} B/req (medians of ${windows} windows × ${requests})`,
        );
      }
      console.log(`V8 flags: ${V8_FLAGS.join(' ') || "node's defaults"}`);
      console.log(`daemon ÷ floor instructions per request, mean of the windows ${(summary['daemon']!.mean / summary['floor']!.mean).toFixed(3)}, median of the windows: ${ratio.toFixed(3)}; of the medians without a major GC: ${(summary['daemon']!.withoutMajorGc / summary['floor']!.withoutMajorGc).toFixed(3)}`);
    }
  } finally {
    for (const c of children) c.kill('SIGTERM');
    // Each dump holds the whole call graph (MBs); the figures are printed.
    if (opts.keep === true) console.error(`callgrind dumps kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
