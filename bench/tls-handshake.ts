// New TLS handshakes/s only (issue #18: ≥ 0.7× nginx): one full handshake a request (`Connection: close`; wrk does
// not resume), against node's bare TLS server, cmesh's proxy behind TlsServing and nginx, each as 1 and 2 processes
// accepting on one socket (bench/tls-handshake-servers.ts), same ECDSA P-256 leaf, same 2 echo replicas for the two
// proxies. CPU per handshake is summed over each server's processes and also read for the client (wrk, from our own
// reaped-children CPU), because on a shared 2-core host handshakes/s is mostly the scheduler's. Rounds rotate the order.
// V8 keeps tiering up node's per-connection code for ~40 s at ~60 handshakes/s (--trace-opt: 70, 64, 30, 30, 18, 8
// functions optimised in successive 8 s windows), so node targets need a longer --warmup than nginx to be at steady state.
// Run: `npx tsx bench/tls-handshake.ts [--rounds 3] [--seconds 4] [--warmup 2] [--only node-1p,nginx-1w] [--json]`.

import { type ChildProcess, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { benchArgs, usageError } from './args.ts';
import { loadAverage, median } from './proxy-product.ts';
import { PATH, cpuSeconds, have } from './proxy-peers.ts';
import { type TlsServerKind, startTlsServer } from './tls-handshake-servers.ts';
import { log, withTlsBench } from './tls-fixture.ts';
import { parseWrk } from './wrk.ts';

const TARGETS = ['nginx-1w', 'nginx-2w', 'node-1p', 'node-2p', 'cmesh-tls-1p', 'nginx-proxy-1w', 'nginx-proxy-2w', 'cmesh-1p', 'cmesh-2p'] as const;
type Target = (typeof TARGETS)[number];

/** Each ratio: a node-side target over the nginx one it is compared with, per round. */
const PAIRS: [Target, Target][] = [
  ['node-1p', 'nginx-1w'],
  ['node-2p', 'nginx-2w'],
  ['cmesh-1p', 'nginx-proxy-1w'],
  ['cmesh-2p', 'nginx-proxy-2w'],
  ['cmesh-2p', 'nginx-proxy-1w'],
  ['cmesh-tls-1p', 'node-1p'],
  ['cmesh-1p', 'cmesh-tls-1p'],
  ['cmesh-1p', 'node-1p'],
];

interface Running {
  name: Target;
  port: number;
  process: ChildProcess;
}

interface Sample {
  rps: number;
  serverUs: number;
  clientUs: number;
  errors: number;
}

/** utime+stime of a process and its direct children (cluster or nginx workers), in seconds. */
function treeCpu(pid: number): number {
  const pids = [pid];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const children = `/proc/${pid}/task/${task}/children`;
    if (existsSync(children)) pids.push(...readFileSync(children, 'utf8').split(' ').filter(Boolean).map(Number));
  }
  return pids.reduce((s, p) => {
    try {
      const c = cpuSeconds(p);
      return s + c.user + c.sys;
    } catch {
      return s; // exited meanwhile
    }
  }, 0);
}

/** CPU of this process's reaped children (wrk, after spawnSync returns), in seconds. */
function reapedChildrenCpu(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / 100;
}

/** wrk -t1 -c16 with `Connection: close`: every request a new connection and a full handshake. */
function handshakes(t: Running, seconds: number): Sample {
  const [s0, c0] = [treeCpu(t.process.pid!), reapedChildrenCpu()];
  const args = ['-t1', '-c16', `-d${seconds}s`, '-H', 'Connection: close', `https://127.0.0.1:${t.port}${PATH}`];
  const out = spawnSync('wrk', args, { encoding: 'utf8', timeout: (seconds + 20) * 1000 });
  const [s1, c1] = [treeCpu(t.process.pid!), reapedChildrenCpu()];
  const { rps, requests, errors } = parseWrk(out.stdout);
  const per = (cpu: number): number => (requests > 0 ? (cpu * 1e6) / requests : 0);
  return { rps, serverUs: per(s1 - s0), clientUs: per(c1 - c0), errors };
}

/** Starts one target (bench/tls-handshake-servers.ts). */
async function start(name: Target, dir: string, upstreams: number[], children: ChildProcess[]): Promise<Running> {
  const procs = name.endsWith('2p') || name.endsWith('2w') ? 2 : 1;
  const kind: TlsServerKind = name.startsWith('nginx') ? 'nginx' : name.startsWith('node') ? '--floor' : name.startsWith('cmesh-tls') ? '--tls-only' : '--cmesh';
  const proxying = name.startsWith('nginx-proxy') || kind === '--cmesh';
  const { port, process } = await startTlsServer(kind, dir, procs, proxying ? upstreams : [], children);
  return { name, port, process };
}

async function main(): Promise<void> {
  const usage = 'usage: npx tsx bench/tls-handshake.ts [--rounds 3] [--seconds 4] [--warmup 2] [--only NAME,…] [--json]';
  const o = benchArgs(usage, { rounds: { type: 'number' }, seconds: { type: 'number' }, warmup: { type: 'number' }, only: { type: 'string' }, json: { type: 'boolean' } });
  const only = o.only?.split(',') ?? [...TARGETS];
  const unknown = only.filter((n) => !(TARGETS as readonly string[]).includes(n));
  if (unknown.length > 0) usageError(`--only: unknown target(s) ${unknown.join(', ')}; known: ${TARGETS.join(', ')}`, usage);
  const [rounds, seconds] = [o.rounds ?? 3, o.seconds ?? 4];
  if (!have('wrk') || !have('nginx')) throw new Error('bench/tls-handshake.ts needs wrk and nginx: run scripts/install-bench-peers.sh');
  await withTlsBench('cmesh-bench-tls-hs-', async ({ dir, upstreams, children }) => {
    const targets: Running[] = [];
    for (const name of only as Target[]) targets.push(await start(name, dir, upstreams, children));
    for (const t of targets) handshakes(t, o.warmup ?? 2); // warm-up: JIT, pools
    const samples = new Map<Target, Sample[]>(targets.map((t) => [t.name, []]));
    const rows: string[] = [];
    for (let r = 0; r < rounds; r++) {
      const order = targets.map((_, i) => targets[(i + r) % targets.length]!);
      const load = loadAverage();
      const cells: string[] = [];
      for (const t of order) {
        const s = handshakes(t, seconds);
        samples.get(t.name)!.push(s);
        cells.push(`${t.name} ${s.rps.toFixed(0)}/s ${s.serverUs.toFixed(0)} µs (client ${s.clientUs.toFixed(0)} µs${s.errors > 0 ? `, ${s.errors} errors` : ''})`);
      }
      const row = `round ${r + 1} (load ${load} → ${loadAverage()}): ${cells.join('; ')}`;
      rows.push(row);
      log(row);
    }
    const ratios = PAIRS.filter(([a, b]) => samples.has(a) && samples.has(b)).map(([a, b]) => {
      const [sa, sb] = [samples.get(a)!, samples.get(b)!];
      const rps = median(sa.map((s, i) => s.rps / sb[i]!.rps));
      const cpu = median(sa.map((s, i) => s.serverUs / sb[i]!.serverUs));
      return { pair: `${a}/${b}`, rps, cpu };
    });
    const medians = Object.fromEntries([...samples].map(([n, ss]) => [n, { rps: median(ss.map((s) => s.rps)), serverUs: median(ss.map((s) => s.serverUs)), clientUs: median(ss.map((s) => s.clientUs)) }]));
    if (o.json === true) process.stdout.write(`${JSON.stringify({ rounds, seconds, medians, ratios, rows, load: loadAverage() }, null, 2)}\n`);
    for (const [n, m] of Object.entries(medians)) log(`median ${n}: ${m.rps.toFixed(0)}/s, server ${m.serverUs.toFixed(0)} µs, client ${m.clientUs.toFixed(0)} µs a handshake`);
    for (const r of ratios) log(`median ${r.pair}: handshakes/s ${r.rps.toFixed(2)}x, server CPU a handshake ${r.cpu.toFixed(2)}x`);
  });
}

await main();
