// The product path of bench/proxy.ts (issue #15 part 2): the proxy as the user gets it — a real daemon
// (`node bin/cmesh.js`, its own CMESH_HOME, metrics on), a real project (3 cmesh-fixture/echo:test replicas, the
// default balancer and health checks, a published port) — beside nginx, haproxy, caddy and the node floor, each in
// front of the same 3 replica ports. Run through `npx tsx bench/proxy.ts --product [--rounds N] [--seconds N] [--latency-rounds N] [--rate N] [--cpu-prof DIR] [--json]`.
// Method: paired, alternating rounds: every round runs each path once with wrk -t1 -c64 for a fixed duration, the
// order reversed every other round, so a burst of another session's work falls on one round of every path rather than
// on all rounds of one; each round gives ratios against nginx of the same round, and the report is the median ratio
// over the rounds (≥ 5 for the goals). CPU per request from /proc/<pid>/stat of each proxy process (the daemon's
// includes its control plane, metrics, health probes). Then the open loop at half nginx's median max rate (latency
// from each request's due time), alternating too, added p50 over direct to one replica. Bounded: rounds × paths ×
// seconds; everything carries the run's test labels and is removed at the end, even on failure.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CmeshCli, newCmeshCli, until } from '../test/helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, requireDocker } from '../test/helpers/docker.ts';
import { upEchoProduct } from './echo-product.ts';
import { formatSplit, type ProcessSplit, sampleProcess, splitPerRequest } from './process-split.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { DAEMON_V8_FLAGS } from '../cli/daemon-bundle.ts';
import { fixedRate, have, type Latency, type Peer, startPeer, wrk } from './proxy-peers.ts';

type PathName = 'cmesh' | 'nginx' | 'haproxy' | 'caddy' | 'floor';
interface Path {
  name: PathName;
  port: number;
  pid: number;
}
interface Round {
  rps: number;
  cpuUsPerReq: number;
  errors: number;
  split: ProcessSplit;
}

const SATURATED_P50_MS = 5;
const log = (line: string): void => void process.stderr.write(`${line}\n`);
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
export const loadAverage = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** Waits until a path answers the bench's request with 200 (bench/proxy-syscalls.ts too). */
export async function untilServing(name: string, port: number): Promise<void> {
  await until(`${name} serving`, 20_000, async () => {
    const r = await fetch(`http://127.0.0.1:${port}/bytes?n=1024`).catch(() => undefined);
    await r?.arrayBuffer();
    return r?.status === 200 ? true : undefined;
  }, 200);
}

/** One wrk run against a path: req/s, the process's CPU per request, errors (bench/policy.ts uses it too). */
export function measure(p: Pick<Path, 'port' | 'pid'>, seconds: number): Round {
  const s0 = sampleProcess(p.pid);
  const r = wrk(p.port, seconds);
  const s1 = sampleProcess(p.pid);
  const cpu = s1.user - s0.user + s1.sys - s0.sys;
  return { rps: r.rps, cpuUsPerReq: r.requests > 0 ? (cpu * 1e6) / r.requests : 0, errors: r.errors, split: splitPerRequest(s0, s1, r.requests) };
}

/** bench/proxy.ts --product's flags, parsed there (bench/args.ts). */
export interface ProductOptions {
  rounds?: number;
  seconds?: number;
  'latency-rounds'?: number;
  rate?: number;
  'cpu-prof'?: string;
  /** The daemon's V8 flags instead of DAEMON_V8_FLAGS (e.g. "" for node's defaults: weighing the semi-space). */
  'v8-flags'?: string;
  json?: boolean;
}

/** The daemon's resident memory now (VmRSS) or at its peak (VmHWM), MiB. */
const rssMiB = (pid: number, field: 'VmRSS' | 'VmHWM'): number =>
  Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN) / 1024;

export async function productBench(opts: ProductOptions): Promise<void> {
  const rounds = Math.max(1, opts.rounds ?? 5);
  const seconds = Math.max(1, opts.seconds ?? 5);
  const latencyRounds = Math.max(0, opts['latency-rounds'] ?? 2);
  const missing = ['wrk', 'nginx', 'haproxy', 'caddy'].filter((c) => !have(c));
  if (missing.length > 0) throw new Error(`bench/proxy --product: ${missing.join(', ')} not found. Install them: scripts/install-bench-peers.sh`);
  await requireDocker();
  const echo = await buildFixtureImage('echo');
  const runId = newRunId('bench-proxy');
  // --cpu-prof DIR: the daemon writes a V8 CPU profile there when it stops (the daemon's own flags kept).
  const prof = opts['cpu-prof'];
  const v8 = opts['v8-flags'] ?? DAEMON_V8_FLAGS.join(' ');
  const cli: CmeshCli = await newCmeshCli({ CMESH_DAEMON_V8_FLAGS: prof === undefined ? v8 : `${v8} --cpu-prof --cpu-prof-dir=${prof}` });
  const dir = mkdtempSync(join(tmpdir(), 'cmesh-bench-proxy-'));
  const peers: Peer[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanUp = (): Promise<void> =>
    (cleaning ??= (async () => {
      for (const p of peers) p.process.kill('SIGTERM');
      await cli.teardown(runId, runId);
      rmSync(dir, { recursive: true, force: true });
    })());
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanUp().finally(() => process.exit(130)));
  const loadAtStart = loadAverage();
  const started = Date.now();
  try {
    log(`bench/proxy --product: up (project ${runId}, 3 echo replicas, default balancer, metrics on)`);
    const { hostPort, ports, daemonPid } = await upEchoProduct(cli, runId, echo);
    const paths: Path[] = [{ name: 'cmesh', port: hostPort, pid: daemonPid }];
    for (const name of ['nginx', 'haproxy', 'caddy', 'floor'] as const) {
      const peer = startPeer(name, dir, await freePort(), ports);
      peers.push(peer);
      paths.push({ name, port: peer.port, pid: peer.process.pid! });
    }
    // Every path answers 200 before measuring (the daemon's health checks admit the replicas within a second).
    for (const p of paths) await untilServing(p.name, p.port);
    const idleRss = rssMiB(daemonPid, 'VmRSS');
    log(`daemon V8 flags "${v8}", RSS ${idleRss.toFixed(1)} MiB before load`);
    log('warm-up: 2 s per path (JIT, keep-alive pools)');
    for (const p of paths) wrk(p.port, 2);
    const byPath = new Map<PathName, Round[]>(paths.map((p) => [p.name, []]));
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? paths : [...paths].reverse();
      log(`round ${round}/${rounds}: ${order.map((p) => p.name).join(', ')} (load ${loadAverage()})`);
      for (const p of order) byPath.get(p.name)!.push(measure(p, seconds));
    }
    const of = (name: PathName): Round[] => byPath.get(name)!;
    const ratios = (name: PathName, to: PathName, k: 'rps' | 'cpuUsPerReq'): number[] => of(name).map((r, i) => r[k] / of(to)[i]![k]);
    // --rate N: a fixed rate of one's own, for a host too busy to hold half nginx's maximum on any path.
    const rate = (opts.rate ?? 0) || Math.round(median(of('nginx').map((r) => r.rps)) / 2);
    const latency = new Map<string, Latency[]>();
    const direct = ports[0]!;
    const latencyPaths = [{ name: 'direct', port: direct }, ...paths.filter((p) => p.name !== 'caddy' && p.name !== 'haproxy')];
    for (let round = 1; round <= latencyRounds; round++) {
      const order = round % 2 === 1 ? latencyPaths : [...latencyPaths].reverse();
      log(`latency round ${round}/${latencyRounds} at ${rate} req/s: ${order.map((p) => p.name).join(', ')}`);
      for (const p of order) latency.set(p.name, [...(latency.get(p.name) ?? []), fixedRate(p.port, rate, seconds)]);
    }
    const p50 = (name: string): number => median((latency.get(name) ?? []).map((l) => l.p50));
    const p99 = (name: string): number => median((latency.get(name) ?? []).map((l) => l.p99));
    const names: PathName[] = ['cmesh', 'nginx', 'haproxy', 'caddy', 'floor'];
    const result = {
      date: new Date().toISOString(),
      request: `GET /bytes?n=1024, keep-alive, wrk -t1 -c64, ${seconds} s per run, ${rounds} paired alternating rounds`,
      loadAverage: { atStart: loadAtStart, atEnd: loadAverage() },
      daemon: { v8Flags: v8, rssMiB: { beforeLoad: idleRss, peak: rssMiB(daemonPid, 'VmHWM'), atEnd: rssMiB(daemonPid, 'VmRSS') } },
      medianRps: Object.fromEntries(names.map((n) => [n, median(of(n).map((r) => r.rps))])),
      medianCpuUsPerReq: Object.fromEntries(names.map((n) => [n, median(of(n).map((r) => r.cpuUsPerReq))])),
      medianRatioVsNginx: Object.fromEntries(names.map((n) => [n, median(ratios(n, 'nginx', 'rps'))])),
      rpsRatiosCmeshVsNginx: ratios('cmesh', 'nginx', 'rps'),
      medianCpuRatioCmeshVsFloor: median(ratios('cmesh', 'floor', 'cpuUsPerReq')),
      medianCpuRatioCmeshVsHaproxy: median(ratios('cmesh', 'haproxy', 'cpuUsPerReq')),
      fixedRate: {
        rate,
        rounds: latencyRounds,
        p50p99Ms: Object.fromEntries([...latency.keys()].map((n) => [n, [p50(n), p99(n)]])),
        // A median above 5 ms is a queue (the host could not keep the rate): then the added p50 measures the queue.
        saturated: [...latency.keys()].filter((n) => p50(n) > SATURATED_P50_MS),
        addedP50Ms: latencyRounds > 0 ? { cmesh: p50('cmesh') - p50('direct'), nginx: p50('nginx') - p50('direct'), floor: p50('floor') - p50('direct') } : undefined,
      },
      errors: [...byPath.values()].flat().reduce((n, r) => n + r.errors, 0) + [...latency.values()].flat().reduce((n, l) => n + l.errors, 0),
      rounds: Object.fromEntries(names.map((n) => [n, of(n)])),
      benchSeconds: Math.round((Date.now() - started) / 1000),
    };
    if (opts.json === true) console.log(JSON.stringify(result, null, 2));
    else printTable(result);
  } finally {
    await cleanUp();
  }
}

function printTable(r: {
  request: string;
  loadAverage: { atStart: string; atEnd: string };
  daemon: { v8Flags: string; rssMiB: { beforeLoad: number; peak: number; atEnd: number } };
  medianRps: Record<string, number>;
  medianCpuUsPerReq: Record<string, number>;
  medianRatioVsNginx: Record<string, number>;
  rpsRatiosCmeshVsNginx: number[];
  medianCpuRatioCmeshVsFloor: number;
  fixedRate: { rate: number; p50p99Ms: Record<string, number[]>; saturated: string[]; addedP50Ms?: { cmesh: number; nginx: number; floor: number } };
  errors: number;
  rounds: Record<string, Round[]>;
  benchSeconds: number;
}): void {
  const f = (v: number | undefined, d = 0): string => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(d));
  console.log(`${r.request}; load average ${r.loadAverage.atStart} → ${r.loadAverage.atEnd}; ${r.benchSeconds} s`);
  console.log('path        median req/s  ×nginx (median of paired ratios)  CPU µs/req');
  for (const n of Object.keys(r.medianRps)) {
    console.log(`${(n === 'cmesh' ? 'cmesh daemon' : n).padEnd(12)}${f(r.medianRps[n]).padStart(12)}  ${f(r.medianRatioVsNginx[n], 2).padStart(6)}${' '.repeat(28)}${f(r.medianCpuUsPerReq[n], 1).padStart(8)}`);
  }
  for (const [n, rs] of Object.entries(r.rounds)) console.log(`  ${n.padEnd(8)} ${formatSplit(rs.map((x) => x.split), median)}`);
  console.log(`cmesh/nginx per round: ${r.rpsRatiosCmeshVsNginx.map((x) => x.toFixed(2)).join(' ')} (goal: median ≥ 0.80)`);
  console.log(`cmesh CPU/req ÷ node floor's: median ${f(r.medianCpuRatioCmeshVsFloor, 2)} (goal ≤ 1.10)`);
  const a = r.fixedRate.addedP50Ms;
  if (a) {
    const lat = Object.entries(r.fixedRate.p50p99Ms).map(([n, [p50, p99]]) => `${n} ${f(p50, 3)}/${f(p99, 3)}`).join('  ');
    console.log(`@${r.fixedRate.rate} req/s p50/p99 ms (median of rounds): ${lat}`);
    if (r.fixedRate.saturated.length > 0) console.log(`SATURATED at this rate (p50 over ${SATURATED_P50_MS} ms): ${r.fixedRate.saturated.join(', ')}: the added p50 says nothing`);
    console.log(`added p50 over direct: cmesh ${f(a.cmesh, 3)} ms  nginx ${f(a.nginx, 3)} ms  floor ${f(a.floor, 3)} ms (goal: cmesh ≤ nginx + 0.1 ms)`);
  }
  const m = r.daemon.rssMiB;
  console.log(`daemon V8 flags "${r.daemon.v8Flags}": RSS MiB before load ${f(m.beforeLoad, 1)}, peak ${f(m.peak, 1)}, at the end ${f(m.atEnd, 1)}`);
  console.log(`errors ${r.errors}`);
}
