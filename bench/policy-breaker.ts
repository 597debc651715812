// The breaker part of bench/policy.ts (issue #17): the target saturated (max_requests 8 held by 8 one-minute requests),
// repeated 10 s floods of overflow answers. Per round: wrk's p50/p99, the share answered within 10 ms inside the daemon,
// an open loop at a fixed rate, and the daemon's memory 2 s after the round and again after a forced full GC: RSS, the
// resident part of glibc's malloc heap, and V8's heap used/total and external memory (its own metrics). Garbage waits
// for V8's next major GC (seconds to minutes apart at this rate), so only the after-GC figures can show a leak; the
// verdict `memoryBounded` holds when RSS and heapUsed after GC grow by at most BOUNDED_MIB over the last rounds.

import http from 'node:http';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { until } from '../test/helpers/cmesh-cli.ts';
import { metricSum } from '../test/helpers/metrics.ts';
import { fixedRate } from './proxy-peers.ts';
import { loadAverage } from './proxy-product.ts';
import { parseWrk } from './wrk.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;

/** Offered rate of the open-loop overflow latency run. */
const OVERFLOW_RATE = 1000;
/** How many of the last rounds the memory verdict looks at, and how much they may grow (RSS and heapUsed each). */
export const VERDICT_ROUNDS = 4;
export const BOUNDED_MIB = 4;

const rssMiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
/** Resident size of glibc's main malloc arena (the `[heap]` mapping): native allocations, not V8's heap. */
function mallocHeapMiB(pid: number): number {
  const smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  const at = smaps.indexOf(' [heap]\n');
  return at < 0 ? 0 : Number(/Rss:\s+(\d+)/.exec(smaps.slice(at))?.[1] ?? 0) / 1024;
}

export interface MemorySample {
  rssMiB: number;
  mallocHeapMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
}

async function memory(pid: number, url: string): Promise<MemorySample> {
  const mib = async (name: string): Promise<number> => Number(((await metricSum(url, name)) / MiB).toFixed(1));
  return {
    rssMiB: Number(rssMiB(pid).toFixed(1)),
    mallocHeapMiB: Number(mallocHeapMiB(pid).toFixed(1)),
    heapUsedMiB: await mib('cmesh_nodejs_heap_size_used_bytes'),
    heapTotalMiB: await mib('cmesh_nodejs_heap_size_total_bytes'),
    externalMiB: await mib('cmesh_nodejs_external_memory_bytes'),
  };
}

/** Growth of RSS and heapUsed over the last VERDICT_ROUNDS samples (first of them to last), and whether both are small. */
export function memoryVerdict(after: MemorySample[]): { rssGrowthMiB: number; heapGrowthMiB: number; bounded: boolean; rounds: number } {
  const last = after.slice(-VERDICT_ROUNDS);
  const grow = (k: keyof MemorySample): number => Number((last.at(-1)![k] - last[0]![k]).toFixed(1));
  const rssGrowthMiB = grow('rssMiB');
  const heapGrowthMiB = grow('heapUsedMiB');
  return { rssGrowthMiB, heapGrowthMiB, bounded: last.length === VERDICT_ROUNDS && rssGrowthMiB <= BOUNDED_MIB && heapGrowthMiB <= BOUNDED_MIB, rounds: last.length };
}

/** The daemon's duration histogram of service `guarded`: answers within 10 ms, and all of them. */
async function guardedDurations(url: string): Promise<{ under10ms: number; count: number }> {
  return {
    under10ms: await metricSum(url, 'cmesh_request_duration_seconds_bucket', { service: 'guarded', le: '0.01' }),
    count: await metricSum(url, 'cmesh_request_duration_seconds_count', { service: 'guarded' }),
  };
}

/** A preload for the daemon (with --expose-gc): a full GC on SIGUSR2, so the bench reads what survives one. */
export function gcOnSignal(dir: string): string {
  const file = join(dir, 'gc-on-signal.mjs');
  writeFileSync(file, "process.on('SIGUSR2', () => globalThis.gc());\n");
  return file;
}

/** Asks the daemon for a heap snapshot (SIGUSR2) and waits until the file in `dir` is complete. */
async function heapSnapshot(pid: number, dir: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  const file = await until('the heap snapshot', 120_000, async () => readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f)), 250);
  // Written in one go: complete when its size stops changing.
  let size = -1;
  await until('the heap snapshot written', 120_000, async () => {
    const now = readFileSync(`${dir}/${file}`).length;
    const done = now > 0 && now === size;
    size = now;
    return done ? true : undefined;
  }, 500);
  return file;
}

/** How the daemon is made to collect its garbage after a round: SIGUSR2 to the gcOnSignal preload, or a heap snapshot. */
export type ForcedGc = { gc: 'signal' } | { gc: 'snapshot'; dir: string };

export async function breakerPart(pid: number, port: number, rounds: number, seconds: number, metricsUrl: string, forced: ForcedGc) {
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
  // What the round left (garbage included), then what survives a full GC.
  const settled = async (): Promise<{ idle: MemorySample; afterGc: MemorySample }> => {
    await sleep(2000);
    const idle = await memory(pid, metricsUrl);
    if (forced.gc === 'snapshot') log(`heap snapshot ${await heapSnapshot(pid, forced.dir)}`);
    else process.kill(pid, 'SIGUSR2');
    await sleep(1000);
    return { idle, afterGc: await memory(pid, metricsUrl) };
  };
  try {
    const baseline = await settled();
    log(`breaker baseline: ${JSON.stringify(baseline)}`);
    const out = [];
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
      const after = await guardedDurations(metricsUrl);
      // The proxy's own time per answer (head parsed → answer written), from its duration histogram over this run.
      const inDaemonUnder10Ms = (after.under10ms - before.under10ms) / Math.max(1, after.count - before.count);
      // The same answers at a fixed rate (open loop, latency from each request's due time): what a caller sees
      // without wrk's 64 connections queueing in the daemon's event loop at its maximum.
      const open = fixedRate(port, OVERFLOW_RATE, seconds);
      const mem = await settled();
      const row = {
        round,
        load,
        requests,
        rps,
        p50Ms,
        p99Ms,
        // Every answer should be the 503 overflow: a 2xx here would mean the breaker let one through.
        served2xx: requests - non2xx,
        inDaemonUnder10Ms,
        openLoop: { rate: OVERFLOW_RATE, p50Ms: open.p50, p99Ms: open.p99, non200: open.errors, sent: open.sent },
        rssBeforeMiB: Number(rssBefore.toFixed(1)),
        rssMaxMiB: Number(rssMax.toFixed(1)),
        memoryIdle: mem.idle,
        memoryAfterGc: mem.afterGc,
      };
      log(`breaker round ${round}: open loop ${OVERFLOW_RATE} req/s p50 ${open.p50} ms p99 ${open.p99} ms (${open.errors} non-200 of ${open.sent} + warm-up)`);
      log(
        `breaker round ${round}: ${(inDaemonUnder10Ms * 100).toFixed(2)} % within 10 ms inside the daemon; wrk ${row.rps} req/s of overflow, p50 ${row.p50Ms} ms p99 ${row.p99Ms} ms; ` +
          `RSS ${rssBefore.toFixed(0)} → max ${rssMax.toFixed(0)} MiB; idle ${JSON.stringify(mem.idle)}; after a GC ${JSON.stringify(mem.afterGc)} (load ${load})`,
      );
      out.push(row);
    }
    const verdict = memoryVerdict(out.map((r) => r.memoryAfterGc));
    log(`breaker memory over the last ${verdict.rounds} rounds: RSS ${verdict.rssGrowthMiB} MiB, heapUsed ${verdict.heapGrowthMiB} MiB → ${verdict.bounded ? 'BOUNDED' : verdict.rounds < VERDICT_ROUNDS ? `no verdict (needs ${VERDICT_ROUNDS} rounds)` : 'NOT BOUNDED'} (≤ ${BOUNDED_MIB} MiB each)`);
    return { baseline, rounds: out, memoryBounded: verdict };
  } finally {
    holding = false;
    for (const r of held) r.destroy();
  }
}
