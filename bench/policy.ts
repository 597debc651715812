// Traffic-policy acceptance of issue #17 on a real daemon (`node bin/cmesh.js`, its own CMESH_HOME) with a real project
// (cmesh-fixture/echo replicas behind published ports):
// - cpu: a route table of 20 routes where requests match the 20th, plus a rate limit far above the offered load,
//   against the plain path of the same daemon: CPU per request from /proc/<daemon>/stat over each wrk run, paired
//   alternating rounds, median of the per-round ratios (goal ≤ 1.10).
// - ratelimit: `rate_limit: 50 rps, burst 100` under wrk for 10 s: accepted within ±10 % of 600, the rest 429 with
//   Retry-After (a wrk Lua script counts statuses and the header).
// - breaker: the target saturated (max_requests 8 held by 8 slow requests): the overflow answers' p99 under 10 ms
//   (wrk --latency), and the daemon's RSS sampled every 250 ms stays bounded over repeated 10 s floods.
// Usage: npx tsx bench/policy.ts [--rounds N] [--seconds N] [--part cpu|ratelimit|breaker] [--cpu-prof DIR] [--json]
// Bounded: rounds × parts × seconds; everything carries the run's labels and is removed at the end, even on failure.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { newCmeshCli, until } from '../test/helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, requireDocker } from '../test/helpers/docker.ts';
import { serviceLabels } from '../test/helpers/echo-project.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { loadAverage, measure, median } from './proxy-product.ts';
import { fixedRate, have } from './proxy-peers.ts';
import { parseWrk } from './wrk.ts';

const run = promisify(execFile);
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Offered rate of the open-loop overflow latency run. */
const OVERFLOW_RATE = 1000;

const COUNT_STATUSES = `
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; limited = 0; retry = 0; other = 0 end
function response(status, headers, body)
  if status == 200 then ok = ok + 1
  elseif status == 429 then limited = limited + 1; if headers["Retry-After"] ~= nil then retry = retry + 1 end
  else other = other + 1 end
end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do io.write(string.format("COUNTS %d %d %d %d\\n", t:get("ok"), t:get("limited"), t:get("retry"), t:get("other"))) end
end
`;

function compose(runId: string, echo: string, ports: Record<'plain' | 'routed' | 'limited' | 'guarded', number>): string {
  const svc = (name: keyof typeof ports, mesh: string[] = []): string =>
    [`  ${name}:`, `    image: ${echo}`, `    ports: ["127.0.0.1:${ports[name]}:3000"]`, ...(mesh.length ? ['    x-cmesh:', ...mesh.map((l) => `      ${l}`)] : [])].join('\n') +
    `\n${serviceLabels(runId)}`;
  // 19 routes that do not match `/bytes?n=1024` (prefixes, a method, a header), the 20th that does.
  const routes = Array.from({ length: 19 }, (_, i) => {
    const cond = i % 3 === 0 ? `path_prefix: /r${i}/` : i % 3 === 1 ? `path_prefix: /b, method: POST` : `path_prefix: /bytes, headers: { x-r${i}: "1" }`;
    return `  - { match: { ${cond} }, to: { routed: 1 } }`;
  });
  return `name: ${runId}\nservices:\n${[
    svc('plain'),
    svc('routed', ['routes:', ...routes, '  - { match: { path_prefix: /bytes }, to: { routed: 1 } }', 'rate_limit: { requests_per_second: 1000000, burst: 1000000, key: ip }']),
    svc('limited', ['rate_limit: { requests_per_second: 50, burst: 100, key: ip }']),
    // The held requests must outlast a round: the request timeout is raised above their minute.
    svc('guarded', ['circuit_breaker: { max_requests: 8 }', 'timeouts: { request: 120s }']),
  ].join('')}`;
}

async function cpuPart(pid: number, plain: number, routed: number, rounds: number, seconds: number) {
  const paths = [
    { name: 'plain', port: plain, pid },
    { name: 'routed', port: routed, pid },
  ];
  for (const p of paths) measure(p, 2);
  const out: { round: number; load: string; plainUs: number; routedUs: number; ratio: number; errors: number }[] = [];
  for (let round = 1; round <= rounds; round++) {
    const load = loadAverage();
    const order = round % 2 === 1 ? paths : [...paths].reverse();
    const r = Object.fromEntries(order.map((p) => [p.name, measure(p, seconds)]));
    const row = { round, load, plainUs: r['plain']!.cpuUsPerReq, routedUs: r['routed']!.cpuUsPerReq, ratio: r['routed']!.cpuUsPerReq / r['plain']!.cpuUsPerReq, errors: r['plain']!.errors + r['routed']!.errors };
    log(`cpu round ${round}: plain ${row.plainUs.toFixed(1)} µs/req, routed ${row.routedUs.toFixed(1)} µs/req, ratio ${row.ratio.toFixed(3)} (load ${load})`);
    out.push(row);
  }
  return { rounds: out, medianRatio: median(out.map((r) => r.ratio)) };
}

async function rateLimitPart(port: number, rounds: number, dir: string, metricsUrl: string) {
  const script = join(dir, 'count.lua');
  writeFileSync(script, COUNT_STATUSES);
  const out: { round: number; load: string; accepted: number; acceptedVs600: number; wrkOk: number; limited: number; withRetryAfter: number; other: number; wrkTimeouts: number }[] = [];
  for (let round = 1; round <= rounds; round++) {
    // A full bucket to start from: burst 100 refills in 2 s at 50 rps.
    await sleep(3000);
    const load = loadAverage();
    const passed = (): Promise<number> => metricSum(metricsUrl, 'cmesh_requests_total', { service: 'limited', code_class: '2xx' });
    const before = await passed();
    const { stdout } = await run('wrk', ['-t1', '-c8', '-d10s', '-s', script, `http://127.0.0.1:${port}/bytes?n=16`], { timeout: 40_000 });
    // wrk drops answers that come after its 2 s timeout or its end: the daemon's own count of 2xx is the limiter's.
    await sleep(2500);
    const accepted = (await passed()) - before;
    const [ok, limited, retry, other] = (/COUNTS (\d+) (\d+) (\d+) (\d+)/.exec(stdout) ?? []).slice(1).map(Number);
    const timeouts = Number(/timeout (\d+)/.exec(stdout)?.[1] ?? 0);
    const row = { round, load, accepted, acceptedVs600: accepted / 600, wrkOk: ok!, limited: limited!, withRetryAfter: retry!, other: other!, wrkTimeouts: timeouts };
    log(`ratelimit round ${round}: ${accepted} accepted by the daemon (${((accepted / 600) * 100).toFixed(1)} % of 600; wrk saw ${ok} 200, ${timeouts} timeouts), ${limited} × 429 (${retry} with Retry-After), ${other} other (load ${load})`);
    out.push(row);
  }
  return out;
}

const rssMiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** Sum of the samples of one metric whose labels include every `labels` pair, from the daemon's /metrics. */
async function metricSum(url: string, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(url)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** The daemon's duration histogram of service `guarded`: answers within 10 ms, and all of them. */
async function guardedDurations(url: string): Promise<{ under10ms: number; count: number }> {
  return {
    under10ms: await metricSum(url, 'cmesh_request_duration_seconds_bucket', { service: 'guarded', le: '0.01' }),
    count: await metricSum(url, 'cmesh_request_duration_seconds_count', { service: 'guarded' }),
  };
}

async function breakerPart(pid: number, port: number, rounds: number, seconds: number, metricsUrl: string) {
  // Saturate: 8 requests that take a minute hold max_requests, each sent again the moment it ends; aborted at the end.
  let holding = true;
  const held = new Set<http.ClientRequest>();
  const hold = (): void => {
    const req = http.get({ host: '127.0.0.1', port, path: '/slow?ms=60000', agent: false }, (res) => res.resume());
    held.add(req);
    req.on('error', () => undefined).on('close', () => {
      held.delete(req);
      if (holding) hold();
    });
  };
  for (let i = 0; i < 8; i++) hold();
  const full = (): Promise<true> =>
    until('the breaker full', 10_000, async () => {
      const r = await fetch(`http://127.0.0.1:${port}/bytes?n=16`);
      await r.arrayBuffer();
      return r.status === 503 && r.headers.get('x-cmesh-error') === 'overflow' ? true : undefined;
    }, 100);
  try {
    const out: { round: number; load: string; rps: number; p50Ms: number; p99Ms: number; served2xx: number; openLoop: { rate: number; p50Ms: number; p99Ms: number; non200: number; sent: number }; rssBeforeMiB: number; rssMaxMiB: number; rssAfterMiB: number }[] = [];
    for (let round = 1; round <= rounds; round++) {
      // Fresh holders every round (each is sent again as it closes): none of them ends within the round.
      for (const r of [...held]) r.destroy();
      await sleep(200);
      await full();
      const load = loadAverage();
      const before = await guardedDurations(metricsUrl);
      const rssBefore = rssMiB(pid);
      let rssMax = rssBefore;
      const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssMiB(pid))), 250);
      const { stdout } = await run('wrk', ['-t1', '-c64', `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}/bytes?n=16`], { timeout: (seconds + 30) * 1000 }).finally(() =>
        clearInterval(sampler),
      );
      const { requests, non2xx, rps, p50Ms, p99Ms } = parseWrk(stdout);
      const row = {
        round,
        load,
        rps,
        p50Ms,
        p99Ms,
        // Every answer should be the 503 overflow: a 2xx here would mean the breaker let one through.
        served2xx: requests - non2xx,
        rssBeforeMiB: rssBefore,
        rssMaxMiB: rssMax,
        rssAfterMiB: rssMiB(pid),
      };
      const after = await guardedDurations(metricsUrl);
      // The proxy's own time per answer (head parsed → answer written), from its duration histogram over this run.
      const inDaemonUnder10Ms = (after.under10ms - before.under10ms) / Math.max(1, after.count - before.count);
      // The same answers at a fixed rate (open loop, latency from each request's due time): what a caller sees
      // without wrk's 64 connections queueing in the daemon's event loop at its maximum.
      const open = fixedRate(port, OVERFLOW_RATE, seconds);
      const withOpen = { ...row, inDaemonUnder10Ms, openLoop: { rate: OVERFLOW_RATE, p50Ms: open.p50, p99Ms: open.p99, non200: open.errors, sent: open.sent } };
      log(`breaker round ${round}: open loop ${OVERFLOW_RATE} req/s p50 ${open.p50} ms p99 ${open.p99} ms (${open.errors} non-200 of ${open.sent} + warm-up)`);
      log(`breaker round ${round}: ${(inDaemonUnder10Ms * 100).toFixed(2)} % answered within 10 ms inside the daemon; wrk ${row.rps} req/s of overflow, p50 ${row.p50Ms} ms p99 ${row.p99Ms} ms, RSS ${rssBefore.toFixed(0)} → max ${rssMax.toFixed(0)} → ${row.rssAfterMiB.toFixed(0)} MiB (load ${load})`);
      out.push(withOpen);
    }
    return out;
  } finally {
    holding = false;
    for (const r of held) r.destroy();
  }
}

async function main(args: string[]): Promise<void> {
  const flag = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const rounds = Math.max(1, Math.min(20, Number(flag('--rounds') ?? 5)));
  const seconds = Math.max(1, Math.min(30, Number(flag('--seconds') ?? 5)));
  const part = flag('--part');
  if (!have('wrk')) throw new Error('bench/policy: wrk not found. Install: apt-get install -y wrk');
  await requireDocker();
  const echo = await buildFixtureImage('echo');
  const runId = newRunId('bench-policy');
  // --cpu-prof DIR: the daemon writes a V8 CPU profile there when it stops (the daemon's own flags kept).
  const prof = flag('--cpu-prof');
  const cli = await newCmeshCli(prof === undefined ? {} : { CMESH_DAEMON_V8_FLAGS: `--max-semi-space-size=1 --cpu-prof --cpu-prof-dir=${prof}` });
  const dir = mkdtempSync(join(tmpdir(), 'cmesh-bench-policy-'));
  let cleaning: Promise<void> | undefined;
  const cleanUp = (): Promise<void> => (cleaning ??= cli.teardown(runId, runId).finally(() => rmSync(dir, { recursive: true, force: true })));
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanUp().finally(() => process.exit(130)));
  const loadAtStart = loadAverage();
  try {
    const ports = { plain: await freePort(), routed: await freePort(), limited: await freePort(), guarded: await freePort() };
    writeFileSync(join(cli.work, 'compose.yaml'), compose(runId, echo, ports));
    await cli.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
    const pid = await cli.daemonPid();
    if (!pid) throw new Error('no daemon pid');
    for (const [name, port] of Object.entries(ports)) {
      await until(`${name} serving`, 20_000, async () => {
        const r = await fetch(`http://127.0.0.1:${port}/bytes?n=16`).catch(() => undefined);
        await r?.arrayBuffer();
        return r?.status === 200 ? true : undefined;
      }, 200);
    }
    const metricsUrl = async (): Promise<string> => {
      const info = JSON.parse((await cli.ok(['daemon', 'status', '--json'])).stdout) as { metrics?: { url?: string } };
      if (info.metrics?.url === undefined) throw new Error('bench/policy: the daemon serves no metrics');
      return info.metrics.url;
    };
    const result = {
      date: new Date().toISOString(),
      loadAtStart,
      ...(part === undefined || part === 'cpu' ? { cpu: await cpuPart(pid, ports.plain, ports.routed, rounds, seconds) } : {}),
      ...(part === undefined || part === 'ratelimit' ? { rateLimit: await rateLimitPart(ports.limited, Math.min(rounds, 3), dir, await metricsUrl()) } : {}),
      ...(part === undefined || part === 'breaker' ? { breaker: await breakerPart(pid, ports.guarded, Math.min(rounds, 3), 10, await metricsUrl()) } : {}),
      loadAtEnd: loadAverage(),
    };
    if (args.includes('--json')) console.log(JSON.stringify(result, null, 2));
    else console.log(JSON.stringify(result));
  } finally {
    await cleanUp();
  }
}

await main(process.argv.slice(2));
