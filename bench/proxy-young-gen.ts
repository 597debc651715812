// The daemon path's young generation under a sustained load: does V8 grow new space up to --max-semi-space-size while
// the proxy is busy, and what does that do to scavenges per request and to the process's RSS?
// Usage: npx tsx bench/proxy-young-gen.ts [--v8-flags "…"] [--phases N] [--seconds N] [--json]
// bench/proxy-daemon-path.ts (the product's ServicePool, metrics with prom-client's defaults) runs with the given V8
// flags (default: the daemon's, DAEMON_V8_FLAGS) and --trace-gc-nvp over 3 node echo replicas; `wrk -t1 -c16` loads it
// for N phases of S seconds each. Per phase: requests (wrk's count), scavenges per 1 000 requests, the mean bytes a
// scavenge found allocated (≈ the semi-space in use: V8 scavenges when it is full), and the process's VmRSS and VmHWM
// at the phase's end, and the bytes scavenges promoted per request. Then 10 s idle and the same again without load
// (V8's memory reducer may shrink new space).
// Time-free except the wrk rate (printed for orientation, with the load average).

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_V8_FLAGS } from '../cli/daemon-bundle.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { benchArgs } from './args.ts';
import { startEchoReplicas, waitPort } from './proxy-load.ts';
import { PATH } from './proxy-peers.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const USAGE = 'usage: npx tsx bench/proxy-young-gen.ts [--v8-flags "…"] [--phases N] [--seconds N] [--json]';
const opts = benchArgs(USAGE, { 'v8-flags': { type: 'string' }, phases: { type: 'number' }, seconds: { type: 'number' }, json: { type: 'boolean' } });
const V8_FLAGS = opts['v8-flags'] === undefined ? DAEMON_V8_FLAGS : opts['v8-flags'].split(/\s+/).filter(Boolean);

interface Phase {
  phase: string;
  requests: number;
  scavengesPer1k: number;
  bytesPerScavenge: number;
  /** Bytes the scavenges moved to old space, per request: what later major GCs have to collect. */
  promotedPerReq: number;
  majors: number;
  rssMiB: number;
  hwmMiB: number;
  load: number;
}

const statusMiB = (pid: number, field: 'VmRSS' | 'VmHWM'): number =>
  Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

async function main(): Promise<void> {
  const phases = opts.phases ?? 4;
  const seconds = opts.seconds ?? 10;
  const children: ChildProcess[] = [];
  try {
    const upstreams = await startEchoReplicas(children);
    const port = await freePort();
    const child = spawn(process.execPath, [...V8_FLAGS, '--trace-gc-nvp', '--import', 'tsx', join(ROOT, 'bench/proxy-daemon-path.ts'), ROOT, String(port), ...upstreams.map(String)], {
      cwd: ROOT,
      env: { ...process.env, CMESH_BENCH_POOL: 'service' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    const gc = { scavenges: 0, majors: 0, allocated: 0, promoted: 0 };
    let partial = '';
    child.stdout!.on('data', (d: Buffer) => {
      const text = partial + d.toString();
      const cut = text.lastIndexOf('\n') + 1;
      partial = text.slice(cut);
      for (const line of text.slice(0, cut).split('\n')) {
        if (!line.includes(' gc=')) continue;
        if (line.includes(' gc=s ')) {
          gc.scavenges++;
          gc.allocated += Number(/ allocated=(\d+)/.exec(line)?.[1] ?? 0);
          gc.promoted += Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0);
        } else gc.majors++;
      }
    });
    await waitPort(port, 60_000);
    const rows: Phase[] = [];
    const measure = async (phase: string, loaded: boolean): Promise<void> => {
      const mark = { ...gc };
      let requests = 0;
      if (loaded) {
        // Not spawnSync: the child's GC lines must be read while wrk runs.
        const wrk = spawn('wrk', ['-t1', '-c16', `-d${seconds}s`, `http://127.0.0.1:${port}${PATH}`], { stdio: ['ignore', 'pipe', 'ignore'], timeout: (seconds + 30) * 1000 });
        let out = '';
        wrk.stdout.on('data', (d: Buffer) => {
          out += d.toString();
        });
        await new Promise((r) => wrk.on('close', r));
        requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
      } else await new Promise((r) => setTimeout(r, seconds * 1000));
      const s = gc.scavenges - mark.scavenges;
      rows.push({
        phase,
        requests,
        scavengesPer1k: requests > 0 ? (s * 1000) / requests : 0,
        bytesPerScavenge: s > 0 ? (gc.allocated - mark.allocated) / s : 0,
        promotedPerReq: requests > 0 ? (gc.promoted - mark.promoted) / requests : 0,
        majors: gc.majors - mark.majors,
        rssMiB: statusMiB(child.pid!, 'VmRSS'),
        hwmMiB: statusMiB(child.pid!, 'VmHWM'),
        load: loadavg()[0]!,
      });
      const x = rows.at(-1)!;
      console.error(
        `${x.phase}: ${x.requests} requests, ${s} scavenges (${x.scavengesPer1k.toFixed(2)} per 1k req), ${(x.bytesPerScavenge / 1024).toFixed(0)} KiB allocated per scavenge, promoted ${x.promotedPerReq.toFixed(1)} B/req, ${x.majors} major GCs, RSS ${x.rssMiB.toFixed(1)} MiB (peak ${x.hwmMiB.toFixed(1)}), load ${x.load.toFixed(1)}`,
      );
    };
    for (let i = 1; i <= phases; i++) await measure(`load ${i}`, true);
    await measure('idle', false);
    await measure('idle', false);
    await measure(`load ${phases + 1}`, true);
    if (opts.json === true) console.log(JSON.stringify({ date: new Date().toISOString(), v8Flags: V8_FLAGS, seconds, rows }, null, 2));
    else console.log(`V8 flags: ${V8_FLAGS.join(' ') || "node's defaults"}`);
  } finally {
    for (const c of children) c.kill('SIGTERM');
  }
}

await main();
