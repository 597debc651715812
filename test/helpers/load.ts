// HTTP load against a published port for *.docker.test.ts: open-loop (failover acceptance) and paced workers (mesh),
// one outcome type and one summary line. Loopback only (the client is built from a port), every loop bounded in
// request count and time, every request bounded by undici's header and body timeouts.

import { Pool } from 'undici';
import { sleep } from './cmesh-cli.ts';

export interface Outcome {
  status?: number;
  /** The error's code (e.g. ECONNREFUSED) when no response came. */
  error?: string;
  /** From the request's due time (open loop, no coordinated omission) or from its send (everything else). */
  ms: number;
  /** The echo fixture's X-Served-By: the replica's container id. */
  servedBy?: string;
}

/** A keep-alive pool to 127.0.0.1:`port`, one request per connection at a time. */
export const loopbackPool = (port: number, connections: number): Pool =>
  new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: 1, keepAliveTimeout: 4000 });

/** One GET (or HEAD), never throws; `since` is when the request was due (its send time by default). */
export async function get(client: Pool, path = '/', since = performance.now(), method: 'GET' | 'HEAD' = 'GET'): Promise<Outcome> {
  try {
    const res = await client.request({ path, method, headersTimeout: 10_000, bodyTimeout: 10_000 });
    await res.body.text();
    const servedBy = res.headers['x-served-by'];
    return { status: res.statusCode, ms: performance.now() - since, ...(typeof servedBy === 'string' ? { servedBy } : {}) };
  } catch (err) {
    return { error: (err as { code?: string }).code ?? String(err), ms: performance.now() - since };
  }
}

export interface OpenLoopOptions {
  rate: number;
  total: number;
  /** Bound on concurrent requests: a stalled proxy makes the run fail on latency rather than grow without limit. */
  maxInFlight: number;
  /** No request is sent after this long, so a stall ends the run short of `total` instead of stretching it. */
  maxMs: number;
  /** Called just before request `sent` (0-based) goes out. */
  onTick?: (sent: number) => void;
}

/** Request i is sent at t0 + i/rate (later if maxInFlight are outstanding), so a stall shows up as latency. */
export async function openLoop(client: Pool, o: OpenLoopOptions): Promise<{ outcomes: Outcome[]; wallMs: number }> {
  const outcomes: Outcome[] = [];
  const inFlight = new Set<Promise<void>>();
  const t0 = performance.now();
  for (let i = 0; i < o.total && performance.now() - t0 < o.maxMs; i++) {
    const due = t0 + (i * 1000) / o.rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    while (inFlight.size >= o.maxInFlight) await Promise.race(inFlight);
    o.onTick?.(i);
    const p = get(client, '/', due)
      .then((outcome) => void outcomes.push(outcome))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  return { outcomes, wallMs: performance.now() - t0 };
}

export interface PacedLoadOptions {
  /** Requests a second over all workers. */
  rate: number;
  concurrency: number;
  maxMs: number;
  maxCount: number;
  stop?: AbortSignal;
  /** HEAD: answers without a body, which a server writes in one piece (see test/helpers/swarm.ts underLoad). */
  method?: 'GET' | 'HEAD';
  /** Filled as answers arrive (the result is this same array): a test waits on its length, not on a clock. */
  into?: Outcome[];
}

/** `concurrency` workers, each waiting for its answer, paced to `rate` in total; stops at maxMs, maxCount or `stop`. */
export async function pacedLoad(client: Pool, o: PacedLoadOptions): Promise<Outcome[]> {
  const out: Outcome[] = o.into ?? [];
  const deadline = performance.now() + o.maxMs;
  const gap = (1000 * o.concurrency) / o.rate;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline && out.length < o.maxCount && !o.stop?.aborted) {
      const t0 = performance.now();
      out.push(await get(client, '/', performance.now(), o.method));
      const wait = gap - (performance.now() - t0);
      if (wait > 0) await sleep(wait);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return out;
}

export const failed = (outcomes: Outcome[]): Outcome[] => outcomes.filter((o) => o.status !== 200);

/** `N requests [in S s (R req/s)]: 200×N 503×M …; p50 … p99 … max … ms`, for logs and assertion messages. */
export function summary(outcomes: Outcome[], wallMs?: number): string {
  const by = new Map<string, number>();
  for (const o of outcomes) {
    const k = o.status !== undefined ? String(o.status) : (o.error ?? '?');
    by.set(k, (by.get(k) ?? 0) + 1);
  }
  const ms = outcomes.map((o) => o.ms).sort((a, b) => a - b);
  const q = (p: number): number => Math.round(ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] ?? 0);
  const rate = wallMs === undefined ? '' : ` in ${(wallMs / 1000).toFixed(1)} s (${Math.round((outcomes.length * 1000) / wallMs)} req/s)`;
  return `${outcomes.length} requests${rate}: ${[...by].map(([k, v]) => `${k}×${v}`).join(' ')}; p50 ${q(0.5)} ms p99 ${q(0.99)} ms max ${q(1)} ms`;
}
