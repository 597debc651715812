// The real daemon under callgrind (issue #15 part 2): instructions a second while idle — its control plane alone:
// health checks, the gateway table's publish, the reconcile loop's resync, metrics' samplers, timers — and
// instructions a request under a fixed count of requests, beside the harness's daemon path
// (bench/proxy-instructions.ts, which runs the proxy, metrics and pool without the rest). Counts, not times: the
// host's load does not bend them (only how many timer firings land in a window, which is per wall second).
// The daemon is bench/proxy-product.ts's (3 echo replicas, default balancer, metrics on, east-west gateway as by
// default), started by this script under `valgrind --tool=callgrind` with the daemon's own V8 flags and bundle.
// Usage: npx tsx bench/proxy-ctlplane-callgrind.ts [--idle-windows N] [--idle-seconds N] [--windows N]
//   [--requests N] [--warmup N] [--connections N] [--v8-flags "…"] [--keep] [--json]
// --keep leaves the dumps (idle.N, load.N) and prints their dir: name JIT frames with bench/proxy-jit-functions.ts
// (add --v8-flags "--max-semi-space-size=1 --expose-gc --perf-basic-prof"; /tmp/perf-<daemon pid>.map).
// Bounded: 3 replica containers and a gateway, labelled and removed at the end, even on failure.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_V8_FLAGS, daemonLaunch } from '../cli/daemon-bundle.ts';
import { newCmeshCli, until } from '../test/helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, requireDocker } from '../test/helpers/docker.ts';
import { benchArgs } from './args.ts';
import { upEchoProduct } from './echo-product.ts';
import { load } from './fixed-load.ts';
import { median } from './median.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const USAGE = `usage: npx tsx bench/proxy-ctlplane-callgrind.ts [--idle-windows N] [--idle-seconds N] [--windows N]
  [--requests N] [--warmup N] [--connections N] [--v8-flags "…"] [--keep] [--json]`;
const opts = benchArgs(USAGE, {
  'idle-windows': { type: 'number' },
  'idle-seconds': { type: 'number' },
  windows: { type: 'number' },
  requests: { type: 'number' },
  warmup: { type: 'number' },
  connections: { type: 'number' },
  'v8-flags': { type: 'string' },
  keep: { type: 'boolean' },
  json: { type: 'boolean' },
});
const log = (line: string): void => void process.stderr.write(`${line}\n`);

function control(flag: '-z' | '-d', pid: number): void {
  const r = spawnSync('callgrind_control', [flag, String(pid)], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`callgrind_control ${flag} ${pid}: ${r.stderr || r.stdout}`);
}

/** The daemon answers on its control socket (asked directly: a CLI would start a daemon of its own). */
function answers(home: string): Promise<true | undefined> {
  const socketPath = join(home, 'daemon.sock');
  if (!existsSync(socketPath)) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/v1/info', timeout: 10_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? true : undefined);
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
  });
}

class Dumps {
  #n = 0;
  #zeroedAt = 0;
  constructor(
    readonly pid: number,
    readonly file: string,
  ) {}
  zero(): void {
    control('-z', this.pid);
    this.#zeroedAt = performance.now();
  }
  /** Dumps: the window's instructions and wall seconds. */
  dump(): { instructions: number; seconds: number; n: number } {
    control('-d', this.pid);
    const seconds = (performance.now() - this.#zeroedAt) / 1000;
    const n = ++this.#n;
    const total = /^(?:summary|totals): (\d+)/m.exec(readFileSync(`${this.file}.${n}`, 'utf8'));
    if (total === null) throw new Error(`${this.file}.${n}: no totals line`);
    return { instructions: Number(total[1]), seconds, n };
  }
}

async function main(): Promise<void> {
  const idleWindows = opts['idle-windows'] ?? 4;
  const idleSeconds = opts['idle-seconds'] ?? 10;
  const windows = opts.windows ?? 6;
  const requests = opts.requests ?? 5000;
  const connections = opts.connections ?? 16;
  const warmup = opts.warmup ?? 30_000;
  const v8 = opts['v8-flags'] ?? DAEMON_V8_FLAGS.join(' ');
  await requireDocker();
  const echo = await buildFixtureImage('echo');
  const runId = newRunId('bench-ctlcg');
  const dir = mkdtempSync(join(tmpdir(), 'ctlplane-callgrind-'));
  const cli = await newCmeshCli({ CMESH_DAEMON_V8_FLAGS: v8 });
  let daemon: ChildProcess | undefined;
  try {
    const launch = await daemonLaunch(cli.env());
    if (launch.fallback !== undefined) throw new Error(`no daemon bundle: ${launch.fallback}`);
    const file = join(dir, 'daemon.callgrind');
    daemon = spawn('valgrind', ['--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${file}`, process.execPath, ...launch.args], {
      cwd: ROOT,
      env: { ...cli.env(), ...launch.env },
      stdio: 'ignore',
    });
    log(`daemon under callgrind (pid ${daemon.pid}), starting…`);
    await until('the daemon under callgrind to answer', 600_000, () => answers(cli.home), 1000);
    log(`up (project ${runId})…`);
    const { hostPort } = await upEchoProduct(cli, runId, echo);
    const dumps = new Dumps(daemon.pid!, file);
    log(`warm-up: ${warmup} requests`);
    await load('daemon', hostPort, warmup, connections);
    // A pause after the warm-up: V8 finishes its compiles and the up's after-effects settle.
    await new Promise((r) => setTimeout(r, 5000));
    const idle: number[] = [];
    for (let i = 0; i < idleWindows; i++) {
      dumps.zero();
      await new Promise((r) => setTimeout(r, idleSeconds * 1000));
      const d = dumps.dump();
      idle.push(d.instructions / d.seconds);
      log(`idle window ${i + 1} (dump ${d.n}, load ${loadavg()[0]!.toFixed(1)}): ${(d.instructions / d.seconds / 1e6).toFixed(2)} M instructions/s`);
    }
    const idleRate = median(idle);
    const rows: { raw: number; net: number; rps: number; n: number }[] = [];
    for (let w = 0; w < windows; w++) {
      dumps.zero();
      await load('daemon', hostPort, requests, connections);
      const d = dumps.dump();
      const row = { raw: d.instructions / requests, net: (d.instructions - idleRate * d.seconds) / requests, rps: requests / d.seconds, n: d.n };
      rows.push(row);
      log(`window ${w + 1} (dump ${d.n}, load ${loadavg()[0]!.toFixed(1)}): ${row.raw.toFixed(0)} instructions/req, ${row.net.toFixed(0)} less the idle rate (${row.rps.toFixed(0)} req/s under valgrind)`);
    }
    const result = {
      date: new Date().toISOString(),
      v8Flags: v8,
      idle: { perSecond: idle, median: idleRate },
      load: { requests, connections, rows, medianRaw: median(rows.map((r) => r.raw)), medianNet: median(rows.map((r) => r.net)) },
      dumps: opts.keep === true ? dir : undefined,
      daemonPid: daemon.pid,
    };
    if (opts.json === true) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(`idle: ${idle.map((x) => (x / 1e6).toFixed(2)).join(' ')} M instructions/s (median ${(idleRate / 1e6).toFixed(2)} M)`);
      console.log(`load: ${result.load.medianRaw.toFixed(0)} instructions/req as measured, ${result.load.medianNet.toFixed(0)} less the idle rate (medians of ${windows} windows × ${requests})`);
      if (opts.keep === true) console.log(`dumps kept in ${dir} (daemon pid ${daemon.pid})`);
    }
  } finally {
    await cli.teardown(runId, runId);
    if (daemon && daemon.exitCode === null) daemon.kill('SIGKILL');
    if (opts.keep !== true) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
