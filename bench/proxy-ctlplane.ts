// The real daemon's CPU beside its proxy path (issue #15 part 2): what runs on the daemon's event loop that the
// callgrind harness (bench/proxy-instructions.ts: proxy + metrics + pool only) does not — health checks, the gateway
// table's publish timer, the reconcile loop's timers, the event bus, metrics collection, and their GC.
// A real daemon (bench/proxy-product.ts's project: 3 echo replicas, default balancer, metrics on) runs through three
// phases of equal length: idle, loaded by wrk -t1 -c64, idle again. Per phase: CPU from /proc (user, sys), voluntary
// context switches (≈ wake-ups of the event loop: a load-proof count of timers and I/O that woke it), and, from one
// V8 CPU profile of the daemon cut at the phase bounds (bench/cpu-profile-slices.ts), where the samples went.
// Usage: npx tsx bench/proxy-ctlplane.ts [--seconds N] [--profile] [--interval US] [--top N] [--hold N] [--json]
// --hold N keeps the project up N more seconds after the phases (its pid on stderr), for `strace -c -f -p PID`.
// --profile adds the CPU profile: its sampler wakes the main thread every --interval µs (default 250) and costs CPU
// of its own, so the /proc figures of a profiled run are not the daemon's; run without it for those.
// Bounded: 3 phases × N seconds, 3 containers, all labelled and removed at the end, even on failure.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DAEMON_V8_FLAGS } from '../cli/daemon-bundle.ts';
import { newCmeshCli } from '../test/helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, requireDocker } from '../test/helpers/docker.ts';
import { benchArgs } from './args.ts';
import { hrtimeUs, readProfile, type SliceCost, sliceCost } from './cpu-profile-slices.ts';
import { upEchoProduct } from './echo-product.ts';
import { loadAverage, untilServing } from './proxy-product.ts';
import { wrk } from './proxy-peers.ts';

const USAGE = 'usage: npx tsx bench/proxy-ctlplane.ts [--seconds N] [--profile] [--interval US] [--top N] [--hold N] [--json]';
const opts = benchArgs(USAGE, {
  seconds: { type: 'number' },
  profile: { type: 'boolean' },
  interval: { type: 'number' },
  top: { type: 'number' },
  hold: { type: 'number' },
  json: { type: 'boolean' },
});
const seconds = Math.max(2, opts.seconds ?? 20);
const top = opts.top ?? 25;
const log = (line: string): void => void process.stderr.write(`${line}\n`);

interface Sample {
  user: number;
  sys: number;
  wakeups: number;
  at: number;
}
interface Phase {
  name: string;
  from: Sample;
  to: Sample;
  requests: number;
  load: string;
}

function sample(pid: number): Sample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // The main thread's voluntary switches: each is a wait in epoll that ended (a timer, a socket, a signal).
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
  const wakeups = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return { user: Number(f[11]) / 100, sys: Number(f[12]) / 100, wakeups, at: hrtimeUs() };
}

async function main(): Promise<void> {
  await requireDocker();
  const echo = await buildFixtureImage('echo');
  const runId = newRunId('bench-ctlplane');
  const prof = mkdtempSync(join(tmpdir(), 'cmesh-ctlplane-prof-'));
  const interval = opts.interval ?? 250;
  const v8 = `${DAEMON_V8_FLAGS.join(' ')}${opts.profile === true ? ` --cpu-prof --cpu-prof-dir=${prof} --cpu-prof-interval=${interval}` : ''}`;
  const cli = await newCmeshCli({ CMESH_DAEMON_V8_FLAGS: v8 });
  const phases: Phase[] = [];
  try {
    log(`bench/proxy-ctlplane: up (project ${runId}), then idle / load / idle, ${seconds} s each`);
    const { hostPort, daemonPid } = await upEchoProduct(cli, runId, echo);
    await untilServing('cmesh', hostPort);
    // Warm-up (JIT, keep-alive pools), then a pause so the up's and warm-up's after-effects settle.
    wrk(hostPort, 3);
    await new Promise((r) => setTimeout(r, 3000));
    const idle = async (name: string): Promise<void> => {
      const load = loadAverage();
      const from = sample(daemonPid);
      await new Promise((r) => setTimeout(r, seconds * 1000));
      phases.push({ name, from, to: sample(daemonPid), requests: 0, load });
    };
    await idle('idle 1');
    const load = loadAverage();
    const from = sample(daemonPid);
    const r = wrk(hostPort, seconds);
    phases.push({ name: 'load', from, to: sample(daemonPid), requests: r.requests, load });
    await idle('idle 2');
    if (opts.hold !== undefined) {
      log(`holding ${opts.hold} s: daemon pid ${daemonPid}, published port ${hostPort}`);
      await new Promise((r) => setTimeout(r, Math.min(opts.hold!, 600) * 1000));
    }
  } finally {
    await cli.teardown(runId, runId);
  }
  const file = readdirSync(prof).find((f) => f.endsWith('.cpuprofile'));
  const profile = file === undefined ? undefined : readProfile(join(prof, file));
  const rows = phases.map((p) => {
    const wall = (p.to.at - p.from.at) / 1e6;
    const cpu = { userMs: (p.to.user - p.from.user) * 1000, sysMs: (p.to.sys - p.from.sys) * 1000 };
    const slice = profile ? sliceCost(profile, p.from.at, p.to.at) : undefined;
    return { ...p, wall, cpu, wakeupsPerSecond: (p.to.wakeups - p.from.wakeups) / wall, slice };
  });
  rmSync(prof, { recursive: true, force: true });
  if (opts.json === true) {
    console.log(JSON.stringify({ date: new Date().toISOString(), seconds, interval, rows }, null, 2));
    return;
  }
  if (!profile && opts.profile === true) log('no CPU profile written (the daemon did not exit cleanly?)');
  for (const p of rows) {
    const per = p.requests > 0 ? ` = ${(((p.cpu.userMs + p.cpu.sysMs) * 1000) / p.requests).toFixed(2)} µs/req (user ${((p.cpu.userMs * 1000) / p.requests).toFixed(2)}) over ${p.requests} requests` : '';
    console.log(`\n## ${p.name} (${p.wall.toFixed(1)} s, load ${p.load}): user ${p.cpu.userMs.toFixed(0)} ms sys ${p.cpu.sysMs.toFixed(0)} ms${per}; main-thread wake-ups ${p.wakeupsPerSecond.toFixed(1)}/s`);
    if (p.slice) print(p.slice, p.requests, p.wall);
  }
}

function print(s: SliceCost, requests: number, wall: number): void {
  // Idle phases in µs a second, the loaded one in µs a request: the units the question is asked in.
  const unit = requests > 0 ? 'µs/req' : 'µs/s';
  const scale = (us: number): number => (requests > 0 ? us / requests : us / wall);
  console.log(`profile: sampled ${(s.sampledUs / 1000).toFixed(0)} ms, busy ${(s.busyUs / 1000).toFixed(0)} ms = ${scale(s.busyUs).toFixed(2)} ${unit}`);
  console.log(`self, ${unit}:`);
  for (const [name, us] of s.self.slice(0, top)) console.log(`  ${scale(us).toFixed(3).padStart(9)}  ${((100 * us) / s.busyUs).toFixed(1).padStart(5)} %  ${name}`);
  console.log(`inclusive, ${unit}:`);
  for (const [name, us] of s.inclusive.slice(0, top)) console.log(`  ${scale(us).toFixed(3).padStart(9)}  ${((100 * us) / s.busyUs).toFixed(1).padStart(5)} %  ${name}`);
}

await main();
