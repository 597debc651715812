// Proxy benchmark: cmesh's HTTP proxy vs nginx (1 worker, keepalive 64) vs direct, over the same 3 echo replicas; plus
// the "node floor" (bench/proxy-floor.ts: the least a node proxy can do per request), to tell node's cost from cmesh's.
// Usage: npx tsx bench/proxy.ts [--docker] [--pin] [--seconds N] [--json] [--cpu-prof DIR] [--no-daemon-flags] [--v8-flags F]
//   --product [--rounds N] [--seconds N] [--latency-rounds N] [--rate N] [--cpu-prof DIR] [--v8-flags F] [--json]: the product path instead (bench/proxy-product.ts;
//              --v8-flags there replaces the daemon's V8 flags):
//              a real daemon and project beside nginx, haproxy, caddy and the node floor, paired alternating rounds
//   --no-daemon-flags  run the cmesh proxy without the daemon's V8 flags (DAEMON_V8_FLAGS), to compare
//   --v8-flags "..."   extra V8/node flags for the cmesh proxy process (e.g. "--single-threaded-gc")
//   --docker   replicas are 3 containers of cmesh-fixture/echo:test published on 127.0.0.1 (else 3 node processes)
// Needs wrk and nginx on PATH (Debian: scripts/install-bench-peers.sh).
// --pin (2+ CPUs, taskset): replicas, nginx and cmesh run on CPU 0, wrk/autocannon on CPU 1, so the load
// generator never steals server CPU; the proxy shares its core with the replicas, as it would on a small host.
// Method: wrk -t1 -c64 keep-alive closed loop for max RPS; CPU per request from /proc/<pid>/stat (utime+stime) of the
// nginx process and the cmesh proxy process over the same run, split into user and kernel time; latency at 50 % of nginx's max RPS with an open-loop
// client (below: wrk2 is not in Debian and autocannon -R sends per-second bursts), minus the direct latency.

import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_V8_FLAGS } from '../cli/daemon-bundle.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { openLoop, waitPort, WARMUP_S, type WrkLatencyResult, wrk } from './proxy-load.ts';
import { cpuSeconds, have, type Latency, nginxConf, PATH } from './proxy-peers.ts';
import { type BenchValues, benchArgs, childMode } from './args.ts';
import { roundRobinPool } from './round-robin-pool.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const USAGE = `usage: npx tsx bench/proxy.ts [--docker] [--pin] [--seconds N] [--json] [--cpu-prof DIR] [--no-daemon-flags] [--v8-flags F]
       npx tsx bench/proxy.ts --product [--rounds N] [--seconds N] [--latency-rounds N] [--rate N] [--cpu-prof DIR] [--v8-flags F] [--json]`;
const OPTIONS = {
  docker: { type: 'boolean' },
  pin: { type: 'boolean' },
  seconds: { type: 'number' },
  json: { type: 'boolean' },
  'cpu-prof': { type: 'string' },
  'no-daemon-flags': { type: 'boolean' },
  'v8-flags': { type: 'string' },
  product: { type: 'boolean' },
  rounds: { type: 'number' },
  'latency-rounds': { type: 'number' },
  rate: { type: 'number' },
} as const;
// Child modes, started by this file and bench/proxy-peers.ts / bench/proxy-ab.ts as `proxy.ts MODE arg…`.
const childRun = childMode(['--load', '--serve', '--serve-floor'] as const);
const opts: BenchValues<typeof OPTIONS> = childRun === undefined ? benchArgs(USAGE, OPTIONS) : {};

/** Child mode: the cmesh proxy in its own process, so its CPU can be read from /proc like nginx's. */
async function serveProxy(port: number, upstreams: number[]): Promise<void> {
  const { createHttpProxy, ProxyListener } = await import('../mesh/proxy/index.ts');
  const { testMesh } = await import('../mesh/proxy/testing.ts');
  const pool = roundRobinPool('echo', upstreams);
  const listener = new ProxyListener({ proxy: createHttpProxy({ service: 'echo', pool, mesh: testMesh({ timeouts: { connectMs: 5000, requestMs: 30_000, idleMs: 60_000 } }) }) });
  await listener.listen({ host: '127.0.0.1', port });
}

/** Child modes --serve (cmesh) and --serve-floor (bench/proxy-floor.ts): listen, then say `ready` to the parent. */
async function serveChild(mode: '--serve' | '--serve-floor', args: string[]): Promise<void> {
  const port = Number(args[0]);
  if (mode === '--serve') await serveProxy(port, args.slice(1).map(Number));
  else await (await import('./proxy-floor.ts')).serveFloor(port, args.slice(1));
  // A clean exit so `--cpu-prof` gets to write its profile.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0));
  process.stdout.write('ready\n');
}

const PIN = have('taskset') && availableParallelism() >= 2 && opts.pin === true;
const SERVER_CPU = '0';
const CLIENT_CPU = '1';

/** [cmd, args] run on `cpu` when pinning is on. */
function pinned(cpu: string, cmd: string, cmdArgs: string[]): [string, string[]] {
  return PIN ? ['taskset', ['-c', cpu, cmd, ...cmdArgs]] : [cmd, cmdArgs];
}
const clientPin = (cmd: string, cmdArgs: string[]): [string, string[]] => pinned(CLIENT_CPU, cmd, cmdArgs);

function fixedRate(port: number, rate: number, seconds: number): Latency {
  const out = execFileSync(...pinned(CLIENT_CPU, process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--load', `127.0.0.1:${port}`, String(rate), String(seconds)]), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: (WARMUP_S + seconds + 30) * 1000,
  });
  return JSON.parse(out) as Latency;
}

interface Replicas {
  ports: number[];
  stop(): void;
}

async function startReplicas(docker: boolean): Promise<Replicas> {
  if (docker) {
    if (spawnSync('docker', ['image', 'inspect', 'cmesh-fixture/echo:test'], { stdio: 'ignore' }).status !== 0) {
      throw new Error('image cmesh-fixture/echo:test not found: build it first (bash scripts/build-base-images.sh, then the fixture)');
    }
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        execFileSync('docker', ['run', '-d', '--rm', ...(PIN ? ['--cpuset-cpus', SERVER_CPU] : []), '--label', 'dev.cmesh.bench=proxy', '-p', '127.0.0.1::3000', '-e', `CMESH_REPLICA=echo#${i + 1}`, 'cmesh-fixture/echo:test'], {
          encoding: 'utf8',
        }).trim(),
      );
    }
    const ports = ids.map((id) => Number(/:(\d+)\s*$/m.exec(execFileSync('docker', ['port', id, '3000/tcp'], { encoding: 'utf8' }))?.[1]));
    for (const p of ports) await waitPort(p);
    return { ports, stop: () => void spawnSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' }) };
  }
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    children.push(
      spawn(...pinned(SERVER_CPU, process.execPath, [join(ROOT, 'fixtures/docker/echo/server.mjs')]), {
        env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', CMESH_REPLICA: `echo#${i + 1}` },
        stdio: 'ignore',
      }),
    );
    ports.push(port);
  }
  for (const p of ports) await waitPort(p);
  return {
    ports,
    stop: () => {
      for (const c of children) c.kill('SIGKILL');
    },
  };
}

function startNginx(dir: string, port: number, upstreams: number[]): ChildProcess {
  writeFileSync(join(dir, 'nginx.conf'), nginxConf(dir, port, upstreams));
  // master_process off: the one process is the worker, so its /proc/<pid>/stat is the worker's CPU.
  return spawn(...pinned(SERVER_CPU, 'nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')]), { stdio: 'ignore' });
}

/** The cmesh proxy (mode --serve) or the node floor (--serve-floor) in a child process, with the same node flags. */
async function startCmesh(port: number, upstreams: number[], mode = '--serve'): Promise<ChildProcess> {
  // The daemon's V8 flags (cli/daemon-bundle.ts), so the bench measures the proxy as the daemon runs it.
  // --v8-flags "…" adds flags to try (e.g. GC settings) on top of those.
  const v8Flags = [...(opts['no-daemon-flags'] === true ? [] : DAEMON_V8_FLAGS), ...(opts['v8-flags'] ?? '').split(/\s+/).filter(Boolean)];
  // node refuses --cpu-prof in NODE_OPTIONS: it goes on the command line.
  const prof = opts['cpu-prof'];
  const profFlags = prof === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${prof}`];
  const child = spawn(...pinned(SERVER_CPU, process.execPath, [...v8Flags, ...profFlags, '--import', 'tsx', fileURLToPath(import.meta.url), mode, String(port), ...upstreams.map(String)]), {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`cmesh proxy exited with ${code}`)));
  });
  return child;
}

async function main(): Promise<void> {
  if (childRun?.mode === '--load') {
    await openLoop(childRun.args[0]!, Number(childRun.args[1]), Number(childRun.args[2]));
    return;
  }
  if (childRun !== undefined) return serveChild(childRun.mode, childRun.args);
  if (opts.product === true) return (await import('./proxy-product.ts')).productBench(opts);
  const missing = ['wrk', 'nginx'].filter((c) => !have(c));
  if (missing.length > 0) {
    console.error(`bench/proxy: ${missing.join(' and ')} not found. Install them: scripts/install-bench-peers.sh (Debian/Ubuntu).`);
    process.exit(2);
  }
  const seconds = opts.seconds ?? 6;
  const docker = opts.docker === true;
  const dir = mkdtempSync(join(tmpdir(), 'cmesh-bench-'));
  const replicas = await startReplicas(docker);
  const procs: ChildProcess[] = [];
  try {
    const nginxPort = await freePort();
    const cmeshPort = await freePort();
    const nginx = startNginx(dir, nginxPort, replicas.ports);
    procs.push(nginx);
    const cmesh = await startCmesh(cmeshPort, replicas.ports);
    procs.push(cmesh);
    const floorPort = await freePort();
    const floor = await startCmesh(floorPort, replicas.ports, '--serve-floor');
    procs.push(floor);
    await waitPort(nginxPort);
    const direct = replicas.ports[0]!;
    const measure = (port: number, pid?: number): Measured => {
      wrk(port, 2, clientPin); // warm-up: JIT, keep-alive pools
      const c0 = pid === undefined ? { user: 0, sys: 0 } : cpuSeconds(pid);
      const r = wrk(port, seconds, clientPin);
      const c1 = pid === undefined ? { user: 0, sys: 0 } : cpuSeconds(pid);
      const perReq = (s: number): number => (r.requests > 0 ? (s * 1e6) / r.requests : 0);
      return { ...r, cpuUsPerReq: perReq(c1.user - c0.user + c1.sys - c0.sys), userUsPerReq: perReq(c1.user - c0.user), sysUsPerReq: perReq(c1.sys - c0.sys) };
    };
    const d = measure(direct);
    const n = measure(nginxPort, nginx.pid);
    const c = measure(cmeshPort, cmesh.pid);
    const fl = measure(floorPort, floor.pid);
    const rate = Math.round(n.rps / 2);
    const ld = fixedRate(direct, rate, seconds);
    const ln = fixedRate(nginxPort, rate, seconds);
    const lc = fixedRate(cmeshPort, rate, seconds);
    const lf = fixedRate(floorPort, rate, seconds);
    const result = summarise(docker, d, n, c, fl, { rate, direct: ld, nginx: ln, cmesh: lc, floor: lf });
    if (opts.json === true) console.log(JSON.stringify(result, null, 2));
    else printTable(result);
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    replicas.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

type Measured = WrkLatencyResult & { cpuUsPerReq: number; userUsPerReq: number; sysUsPerReq: number };

function summarise(docker: boolean, d: Measured, n: Measured, c: Measured, fl: Measured, l: { rate: number; direct: Latency; nginx: Latency; cmesh: Latency; floor: Latency }) {
  return {
    date: new Date().toISOString(),
    replicas: docker ? 'docker cmesh-fixture/echo:test ×3' : 'node echo fixture ×3',
    pinning: PIN ? `servers on CPU ${SERVER_CPU}, load generator on CPU ${CLIENT_CPU}` : 'none',
    request: `GET ${PATH}, keep-alive, 64 connections`,
    maxRps: { direct: d.rps, nginx: n.rps, cmesh: c.rps, nodeFloor: fl.rps },
    rpsRatioVsNginx: c.rps / n.rps,
    cpuUsPerRequest: { nginx: n.cpuUsPerReq, cmesh: c.cpuUsPerReq, nodeFloor: fl.cpuUsPerReq },
    userSysUsPerRequest: { nginx: [n.userUsPerReq, n.sysUsPerReq], cmesh: [c.userUsPerReq, c.sysUsPerReq], nodeFloor: [fl.userUsPerReq, fl.sysUsPerReq] },
    cpuRatioVsNginx: c.cpuUsPerReq / n.cpuUsPerReq,
    floorCpuRatioVsNginx: fl.cpuUsPerReq / n.cpuUsPerReq,
    fixedRateLatencyMs: l,
    addedP99Ms: { nginx: l.nginx.p99 - l.direct.p99, cmesh: l.cmesh.p99 - l.direct.p99, nodeFloor: l.floor.p99 - l.direct.p99 },
    addedP50Ms: { nginx: l.nginx.p50 - l.direct.p50, cmesh: l.cmesh.p50 - l.direct.p50, nodeFloor: l.floor.p50 - l.direct.p50 },
    errors: d.errors + n.errors + c.errors + fl.errors + l.direct.errors + l.nginx.errors + l.cmesh.errors + l.floor.errors,
  };
}

type Result = ReturnType<typeof summarise>;

function printTable(r: Result): void {
  const f = (v: number, d = 0): string => v.toFixed(d);
  const l = r.fixedRateLatencyMs;
  console.log(`replicas: ${r.replicas}; pinning: ${r.pinning}; ${r.request}`);
  console.log(
    `max RPS      direct ${f(r.maxRps.direct)}  nginx ${f(r.maxRps.nginx)}  cmesh ${f(r.maxRps.cmesh)}  node floor ${f(r.maxRps.nodeFloor)}  → cmesh/nginx ${f(r.rpsRatioVsNginx, 2)} (goal ≥ 0.80)`,
  );
  const us = ([u, s]: number[]): string => `(user ${f(u ?? 0, 1)} + sys ${f(s ?? 0, 1)})`;
  console.log(
    `CPU µs/req   nginx ${f(r.cpuUsPerRequest.nginx, 1)} ${us(r.userSysUsPerRequest.nginx)}  cmesh ${f(r.cpuUsPerRequest.cmesh, 1)} ${us(r.userSysUsPerRequest.cmesh)}  → cmesh/nginx ${f(r.cpuRatioVsNginx, 2)} (goal ≤ 1.25)`,
  );
  console.log(`             node floor ${f(r.cpuUsPerRequest.nodeFloor, 1)} ${us(r.userSysUsPerRequest.nodeFloor)}  → floor/nginx ${f(r.floorCpuRatioVsNginx, 2)}`);
  console.log(`@${l.rate} req/s  p50/p99 ms  direct ${l.direct.p50}/${l.direct.p99}  nginx ${l.nginx.p50}/${l.nginx.p99}  cmesh ${l.cmesh.p50}/${l.cmesh.p99}  node floor ${l.floor.p50}/${l.floor.p99}`);
  console.log(
    `added p99    nginx ${f(r.addedP99Ms.nginx, 2)} ms  cmesh ${f(r.addedP99Ms.cmesh, 2)} ms  node floor ${f(r.addedP99Ms.nodeFloor, 2)} ms (goal ≤ 1 ms)   errors ${r.errors}`,
  );
}

await main();
