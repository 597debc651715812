// Traffic-policy acceptance of issue #17 on a real daemon (`node bin/cmesh.js`, its own CMESH_HOME) with a real project
// (cmesh-fixture/echo replicas behind published ports):
// - cpu: a route table of 20 routes where requests match the 20th, plus a rate limit far above the offered load,
//   against the plain path of the same daemon: CPU per request from /proc/<daemon>/stat over each wrk run, paired
//   alternating rounds, median of the per-round ratios (goal ≤ 1.10).
// - ratelimit: `rate_limit: 50 rps, burst 100` under wrk for 10 s: accepted within ±10 % of 600, the rest 429 with
//   Retry-After (a wrk Lua script counts statuses and the header).
// - breaker: the target saturated (max_requests 8 held by 8 slow requests): the overflow answers' p99 under 10 ms
//   (wrk --latency), and the daemon's RSS and V8 heap stay bounded over ≥ 8 repeated 10 s floods (bench/policy-breaker.ts).
// Usage: npx tsx bench/policy.ts [--rounds N] [--seconds N] [--part cpu|ratelimit|breaker] [--breaker-rounds N]
//   [--cpu-prof DIR] [--heap-snapshots DIR] [--v8-flags '…'] [--json]
// Bounded: rounds × parts × seconds; everything carries the run's labels and is removed at the end, even on failure.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DAEMON_V8_FLAGS } from '../cli/daemon-bundle.ts';
import { newCmeshCli, until } from '../test/helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, requireDocker } from '../test/helpers/docker.ts';
import { serviceLabels } from '../test/helpers/echo-project.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { loadAverage, measure, median } from './proxy-product.ts';
import { metricSum } from '../test/helpers/metrics.ts';
import { breakerPart, gcOnSignal } from './policy-breaker.ts';
import { have } from './proxy-peers.ts';
import { type BenchValues, benchArgs } from './args.ts';

const run = promisify(execFile);
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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

const USAGE = `usage: npx tsx bench/policy.ts [--rounds N] [--seconds N] [--part cpu|ratelimit|breaker] [--breaker-rounds N]
  [--cpu-prof DIR] [--heap-snapshots DIR] [--v8-flags '…'] [--json]`;
const OPTIONS = {
  rounds: { type: 'number' },
  seconds: { type: 'number' },
  part: { type: 'string', choices: ['cpu', 'ratelimit', 'breaker'] },
  'breaker-rounds': { type: 'number' },
  'cpu-prof': { type: 'string' },
  'heap-snapshots': { type: 'string' },
  'v8-flags': { type: 'string' },
  json: { type: 'boolean' },
} as const;

async function main(opts: BenchValues<typeof OPTIONS>): Promise<void> {
  const rounds = Math.max(1, Math.min(20, opts.rounds ?? 5));
  const seconds = Math.max(1, Math.min(30, opts.seconds ?? 5));
  const part = opts.part;
  // The memory verdict needs at least 8 rounds of 10 s floods.
  const breakerRounds = Math.max(1, Math.min(20, opts['breaker-rounds'] ?? 8));
  if (!have('wrk')) throw new Error('bench/policy: wrk not found. Install it: scripts/install-bench-peers.sh');
  await requireDocker();
  const echo = await buildFixtureImage('echo');
  const runId = newRunId('bench-policy');
  // --cpu-prof DIR: the daemon writes a V8 CPU profile there when it stops (the daemon's own flags kept).
  // --v8-flags '…': the daemon's flags instead of its own. After each breaker round the daemon runs a full GC on SIGUSR2
  // (a preload with --expose-gc; the memory verdict is on what survives it), or with --heap-snapshots DIR writes a heap
  // snapshot there (which also collects first).
  const prof = opts['cpu-prof'];
  const snapshots = opts['heap-snapshots'];
  const dir = mkdtempSync(join(tmpdir(), 'cmesh-bench-policy-'));
  const v8 = [opts['v8-flags'] ?? DAEMON_V8_FLAGS.join(' ')];
  if (prof !== undefined) v8.push(`--cpu-prof --cpu-prof-dir=${prof}`);
  if (snapshots !== undefined) v8.push(`--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapshots}`);
  else v8.push(`--expose-gc --import ${gcOnSignal(dir)}`);
  const cli = await newCmeshCli({ CMESH_DAEMON_V8_FLAGS: v8.join(' ') });
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
      ...(part === undefined || part === 'breaker' ? { breaker: await breakerPart(pid, ports.guarded, breakerRounds, 10, await metricsUrl(), snapshots === undefined ? { gc: 'signal' } : { gc: 'snapshot', dir: snapshots }) } : {}),
      loadAtEnd: loadAverage(),
    };
    if (opts.json === true) console.log(JSON.stringify(result, null, 2));
    else console.log(JSON.stringify(result));
  } finally {
    await cleanUp();
  }
}

await main(benchArgs(USAGE, OPTIONS));
