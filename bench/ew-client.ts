// The east-west benchmark's load client (bench/east-west.ts): a plain-node script run in the caller container or on
// the host, the job it takes and the results it prints, how a run of it is awaited, and the calibrated-rate ladder.

import { spawn } from 'node:child_process';

/**
 * The load client, plain node (no packages: it runs in cmesh/node:local as well as on the host). argv[1] is a JSON
 * job: { mode: 'closed' | 'open', hosts, port, path, conns, seconds, warmup, rate?, report? }. Connections are spread over
 * `hosts` (connection c goes to hosts[c % n]), each host with its own keep-alive agent. Prints one JSON line.
 */
export const CLIENT = `
const http = require('node:http');
const job = JSON.parse(process.argv[1]);
const per = job.hosts.map((_, h) => Array.from({ length: job.conns }, (_, c) => c).filter((c) => c % job.hosts.length === h).length);
const agents = job.hosts.map((_, h) => new http.Agent({ keepAlive: true, maxSockets: per[h], maxFreeSockets: per[h] }));
// Settles exactly once, whatever ends the exchange: a connection reset mid-response emits no 'error' on the request,
// only 'close' (a promise left pending there let the process exit without its report).
const get = (h) => new Promise((resolve) => {
  let settled = false;
  const end = (ok) => { if (!settled) { settled = true; resolve(ok); } };
  const req = http.get({ host: job.hosts[h], port: job.port, path: job.path, agent: agents[h], timeout: 10000 }, (res) => {
    res.resume();
    res.on('end', () => end(res.statusCode === 200));
    res.on('close', () => end(false));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => end(false));
  req.on('close', () => { if (!req.res) end(false); });
});
// Also into job.report (a file) when given: docker exec sometimes loses a process's stdout (moby/moby#27289).
// A request the agent never settles (seen under load: the process then exited 0 with nothing to say) is bounded by
// this deadline, which also keeps the process alive until it reports: it counts as an error, 'unfinished'.
const GRACE_MS = 12000;
let deadline;
let reported = false;
const done = (out) => {
  if (reported) return;
  reported = true;
  clearTimeout(deadline);
  for (const a of agents) a.destroy();
  if (job.report) require('node:fs').writeFileSync(job.report, JSON.stringify(out));
  console.log(JSON.stringify(out));
  // Requests still queued in an agent would hold the process until their sockets time out.
  setTimeout(() => process.exit(0), 100);
};
if (job.mode === 'closed') {
  let ok = 0, errors = 0, all = 0;
  const t0 = performance.now();
  const measureFrom = t0 + job.warmup * 1000;
  const end = measureFrom + job.seconds * 1000;
  let busy = 0;
  const worker = async (c) => {
    const h = c % job.hosts.length;
    while (performance.now() < end) {
      const counted = performance.now() >= measureFrom;
      busy++;
      const good = await get(h);
      busy--;
      all++;
      if (counted) { if (good) ok++; else errors++; }
    }
  };
  const report = (unfinished) => {
    const s = (Math.min(performance.now(), end) - measureFrom) / 1000;
    done({ requests: ok, errors: errors + unfinished, seconds: s, rps: ok / s, all, unfinished });
  };
  Promise.all(Array.from({ length: job.conns }, (_, c) => worker(c))).then(() => report(0));
  deadline = setTimeout(() => report(busy), end - t0 + GRACE_MS);
} else {
  const warm = Math.round(job.rate * job.warmup);
  const total = warm + Math.round(job.rate * job.seconds);
  const lat = new Float64Array(total);
  const settled = new Uint8Array(total);
  let sent = 0, finished = 0, errors = 0;
  const start = performance.now();
  const dueOf = (i) => start + (i * 1000) / job.rate;
  const report = (unfinished) => {
    const sorted = Array.from(lat.subarray(warm)).sort((a, b) => a - b);
    const at = (q) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 1000) / 1000;
    done({ p50: at(0.5), p99: at(0.99), errors, sent: total - warm, unfinished });
  };
  const settle = (i, good, late) => {
    if (settled[i]) return;
    settled[i] = 1;
    lat[i] = performance.now() - dueOf(i);
    if (!good && i >= warm) errors++;
    if (++finished === total && !late) report(0);
  };
  const fire = (i) => get(i % job.hosts.length).then((good) => settle(i, good));
  // Unanswered by then: an error, its latency counted up to now (so the percentiles show it).
  deadline = setTimeout(() => {
    const unfinished = total - finished;
    for (let i = 0; i < total; i++) settle(i, false, true);
    report(unfinished);
  }, (job.warmup + job.seconds) * 1000 + GRACE_MS);
  const tick = () => {
    const now = performance.now();
    while (sent < total && dueOf(sent) <= now) { fire(sent); sent++; }
    if (sent < total) setTimeout(tick, 1);
  };
  tick();
}
`;

export interface Job {
  mode: 'closed' | 'open';
  hosts: string[];
  port: number;
  rate?: number;
}
export interface Closed {
  requests: number;
  /** Every request of the run, warm-up included: the CPU readings span the whole run, so they divide by this. */
  all: number;
  errors: number;
  seconds: number;
  rps: number;
  /** Requests still unanswered at the client's deadline (counted in errors too). */
  unfinished?: number;
}
export interface Open {
  p50: number;
  p99: number;
  errors: number;
  sent: number;
  /** Requests still unanswered at the client's deadline (counted in errors, their latency up to it). */
  unfinished?: number;
}

export function exec(file: string, argv: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${file} ${argv.slice(0, 4).join(' ')} exited ${code}: ${err.slice(-1000)}`))));
  });
}

/** A path of the open-loop latency runs: where the caller sends (connections spread over `hosts`). */
export interface LatencyPath {
  name: string;
  hosts: string[];
  port: number;
}
/** One rate of the calibrated ladder: each path's calmest round (lowest p50), and which paths queued at it. */
export interface Rung {
  rate: number;
  byPath: Record<string, Open>;
  saturated: string[];
}

/**
 * Open loops from `top` req/s down, halving, until a rate where no path queues (p50 over `saturatedMs`), at most
 * `rungs` rates; every path runs once per round at each rate, rounds interleaved. The last rung is the one to quote
 * (the highest rate every path held, or the lowest tried); the others say where the host ran out.
 */
export async function latencyLadder(
  run: (path: LatencyPath, rate: number) => Promise<Open>,
  paths: LatencyPath[],
  top: number,
  o: { rounds: number; saturatedMs: number; rungs: number; log: (line: string) => void },
): Promise<Rung[]> {
  const ladder: Rung[] = [];
  for (let k = 0, rate = Math.round(top); k < o.rungs && rate >= 50; k++, rate = Math.round(rate / 2)) {
    const runs = new Map<string, Open[]>(paths.map((p) => [p.name, []]));
    for (let round = 1; round <= o.rounds; round++) {
      o.log(`calibrated rung ${k + 1}, round ${round}/${o.rounds}: open loop at ${rate} req/s: ${paths.map((p) => p.name).join(', ')}`);
      for (const p of paths) runs.get(p.name)!.push(await run(p, rate));
    }
    const byPath = Object.fromEntries([...runs].map(([name, xs]) => [name, xs.reduce((a, b) => (b.p50 < a.p50 ? b : a))]));
    const saturated = Object.entries(byPath).filter(([, r]) => r.p50 > o.saturatedMs).map(([name]) => name);
    ladder.push({ rate, byPath, saturated });
    if (saturated.length === 0) break;
  }
  return ladder;
}
