// x-cmesh policy keys that apply to a service or to one route: rate_limit, circuit_breaker, retry, faults, timeouts.

import type { CircuitBreakerSpec, FaultSpec, RateLimitSpec, RetryCondition, RetrySpec, TimeoutOverrides } from '../api/traffic-policy.ts';
import { RETRY_CONDITIONS } from '../api/traffic-policy.ts';
import { get, type YMap, type YNode } from './node.ts';
import { type Ctx, checkKeys, readDuration, readInt, readMap, readNumber, readString } from './normalize/read.ts';
import type { PathSeg } from './positions.ts';

const RATE_KEYS = new Set(['requests_per_second', 'burst', 'key']);
const BREAKER_KEYS = new Set(['max_connections', 'max_pending', 'max_requests']);
const RETRY_KEYS = new Set(['on', 'attempts', 'per_try_timeout']);
const FAULT_KEYS = new Set(['delay', 'abort']);
const TIMEOUT_KEYS = new Set(['connect', 'request', 'idle']);
const RATE_KEY = /^(ip|route|header:[A-Za-z0-9-]+)$/;

/** What `retry.on` means when it is not given: what the proxy retried before the key existed. */
export const DEFAULT_RETRY_ON: { on: RetryCondition[]; statuses: number[] } = { on: ['connect-failure', 'reset'], statuses: [502, 503] };

export function readRateLimit(ctx: Ctx, node: YNode, path: PathSeg[]): RateLimitSpec | undefined {
  const map = readMap(ctx, node, path, 'e.g. `rate_limit: {requests_per_second: 50, burst: 100, key: ip}`');
  if (map === undefined) return undefined;
  checkKeys(ctx, map, path, { supported: RATE_KEYS });
  const rpsNode = get(map, 'requests_per_second');
  if (rpsNode === undefined) {
    ctx.issues.error(map.pos, path, 'rate_limit needs requests_per_second', 'e.g. `rate_limit: {requests_per_second: 50}`');
    return undefined;
  }
  const rps = readNumber(ctx, rpsNode, [...path, 'requests_per_second'], { min: 0.001 });
  const burstNode = get(map, 'burst');
  const burst = burstNode === undefined ? undefined : readInt(ctx, burstNode, [...path, 'burst'], { min: 1, max: 1_000_000 });
  const keyNode = get(map, 'key');
  let key = 'ip';
  if (keyNode !== undefined) {
    const k = readString(ctx, keyNode, [...path, 'key']);
    if (k === undefined) return undefined;
    if (!RATE_KEY.test(k)) {
      ctx.issues.error(keyNode.pos, [...path, 'key'], `invalid rate_limit key "${k.slice(0, 60)}"`, 'expected "ip", "route" or "header:<name>"');
      return undefined;
    }
    key = k.startsWith('header:') ? `header:${k.slice(7).toLowerCase()}` : k;
  }
  if (rps === undefined || (burstNode !== undefined && burst === undefined)) return undefined;
  // Without a burst, one second's worth of requests may arrive at once (at least one).
  return { requestsPerSecond: rps, burst: burst ?? Math.max(1, Math.ceil(rps)), key };
}

export function readCircuitBreaker(ctx: Ctx, node: YNode, path: PathSeg[]): CircuitBreakerSpec | undefined {
  const map = readMap(ctx, node, path, 'e.g. `circuit_breaker: {max_connections: 512, max_pending: 64, max_requests: 256}`');
  if (map === undefined) return undefined;
  checkKeys(ctx, map, path, { supported: BREAKER_KEYS });
  const out: CircuitBreakerSpec = {};
  const field = { max_connections: 'maxConnections', max_pending: 'maxPending', max_requests: 'maxRequests' } as const;
  for (const [yamlKey, k] of Object.entries(field)) {
    const v = get(map, yamlKey);
    if (v === undefined) continue;
    const n = readInt(ctx, v, [...path, yamlKey], { min: 1, max: 10_000_000 });
    if (n !== undefined) out[k] = n;
  }
  return out;
}

export function readRetry(ctx: Ctx, node: YNode, path: PathSeg[]): RetrySpec | undefined {
  const map = readMap(ctx, node, path, 'e.g. `retry: {on: [connect-failure, reset, 503], attempts: 2, per_try_timeout: 2s}`');
  if (map === undefined) return undefined;
  checkKeys(ctx, map, path, { supported: RETRY_KEYS });
  const out: RetrySpec = { on: [...DEFAULT_RETRY_ON.on], statuses: [...DEFAULT_RETRY_ON.statuses], attempts: 2 };
  const onNode = get(map, 'on');
  if (onNode !== undefined) readRetryOn(ctx, onNode, [...path, 'on'], out);
  const attempts = get(map, 'attempts');
  if (attempts !== undefined) {
    const n = readInt(ctx, attempts, [...path, 'attempts'], { min: 0, max: 100 });
    if (n !== undefined) out.attempts = n;
  }
  const perTry = get(map, 'per_try_timeout');
  if (perTry !== undefined) {
    const ms = readDuration(ctx, perTry, [...path, 'per_try_timeout']);
    if (ms !== undefined) out.perTryTimeoutMs = ms;
  }
  return out;
}

function readRetryOn(ctx: Ctx, node: YNode, path: PathSeg[], out: RetrySpec): void {
  const hint = `a list of ${RETRY_CONDITIONS.join(', ')} or HTTP statuses (e.g. 503)`;
  if (node.kind !== 'seq') {
    ctx.issues.error(node.pos, path, 'retry.on must be a list', hint);
    return;
  }
  out.on = [];
  out.statuses = [];
  node.items.forEach((item, i) => {
    const v = item.kind === 'scalar' ? item.value : undefined;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 400 && v <= 599) out.statuses.push(v);
    else if (typeof v === 'string' && (RETRY_CONDITIONS as readonly string[]).includes(v)) out.on.push(v as RetryCondition);
    else ctx.issues.error(item.pos, [...path, i], `invalid retry condition ${JSON.stringify(v ?? null)}`, hint);
  });
}

export function readFaults(ctx: Ctx, node: YNode, path: PathSeg[]): FaultSpec | undefined {
  const map = readMap(ctx, node, path, 'e.g. `faults: {delay: {percent: 10, duration: 200ms}, abort: {percent: 5, status: 503}}`');
  if (map === undefined) return undefined;
  checkKeys(ctx, map, path, { supported: FAULT_KEYS });
  const out: FaultSpec = {};
  const delay = sub(ctx, map, 'delay', path, new Set(['percent', 'duration']));
  if (delay !== undefined) {
    const percent = need(ctx, delay.map, 'percent', delay.path, (n, p) => readNumber(ctx, n, p, { min: 0 }));
    const durationMs = need(ctx, delay.map, 'duration', delay.path, (n, p) => readDuration(ctx, n, p));
    if (percent !== undefined && durationMs !== undefined && checkPercent(ctx, delay.map, delay.path, percent)) out.delay = { percent, durationMs };
  }
  const abort = sub(ctx, map, 'abort', path, new Set(['percent', 'status']));
  if (abort !== undefined) {
    const percent = need(ctx, abort.map, 'percent', abort.path, (n, p) => readNumber(ctx, n, p, { min: 0 }));
    const status = need(ctx, abort.map, 'status', abort.path, (n, p) => readInt(ctx, n, p, { min: 200, max: 599 }));
    if (percent !== undefined && status !== undefined && checkPercent(ctx, abort.map, abort.path, percent)) out.abort = { percent, status };
  }
  return out;
}

function checkPercent(ctx: Ctx, map: YMap, path: PathSeg[], percent: number): boolean {
  if (percent <= 100) return true;
  ctx.issues.error(get(map, 'percent')?.pos, [...path, 'percent'], `${percent} is out of range (expected between 0 and 100)`);
  return false;
}

function sub(ctx: Ctx, map: YMap, key: string, path: PathSeg[], keys: Set<string>): { map: YMap; path: PathSeg[] } | undefined {
  const node = get(map, key);
  if (node === undefined) return undefined;
  const p = [...path, key];
  const m = readMap(ctx, node, p);
  if (m === undefined) return undefined;
  checkKeys(ctx, m, p, { supported: keys });
  return { map: m, path: p };
}

function need<T>(ctx: Ctx, map: YMap, key: string, path: PathSeg[], read: (n: YNode, p: PathSeg[]) => T | undefined): T | undefined {
  const node = get(map, key);
  if (node === undefined) {
    ctx.issues.error(map.pos, path, `${String(path.at(-1))} needs "${key}"`);
    return undefined;
  }
  return read(node, [...path, key]);
}

export function readTimeoutOverrides(ctx: Ctx, node: YNode, path: PathSeg[]): TimeoutOverrides | undefined {
  const map = readMap(ctx, node, path, 'e.g. `timeouts: {request: 5s}`');
  if (map === undefined) return undefined;
  checkKeys(ctx, map, path, { supported: TIMEOUT_KEYS });
  const t: TimeoutOverrides = {};
  for (const e of map.entries.values()) {
    if (!TIMEOUT_KEYS.has(e.key)) continue;
    const ms = readDuration(ctx, e.value, [...path, e.key]);
    if (ms !== undefined) t[`${e.key as 'connect' | 'request' | 'idle'}Ms`] = ms;
  }
  return t;
}
