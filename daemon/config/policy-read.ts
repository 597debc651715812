// The traffic-policy keys of x-cmesh (service level and x-cmesh.defaults) and how the two levels combine.

import type { TrafficPolicy } from '../api/traffic-policy.ts';
import type { YEntry, YMap } from './node.ts';
import type { Ctx } from './normalize/read.ts';
import { readCircuitBreaker, readFaults, readRateLimit, readRetry } from './policy-limits-read.ts';
import { readRoutes } from './policy-routes-read.ts';
import type { PathSeg } from './positions.ts';

export const POLICY_KEYS = ['routes', 'rate_limit', 'circuit_breaker', 'retry', 'faults'] as const;

/** Reads one policy key of an x-cmesh map into `o.policy`; other keys are not ours and are left alone. */
export function readPolicyKey(ctx: Ctx, map: YMap, e: YEntry, path: PathSeg[], o: { policy?: TrafficPolicy }): void {
  const p = [...path, e.key];
  o.policy ??= {};
  const policy = o.policy;
  switch (e.key) {
    case 'routes': {
      if (path[0] === 'x-cmesh') {
        ctx.issues.error(e.keyPos, p, 'routes belong to a service, not to x-cmesh.defaults', 'move `routes:` under the x-cmesh of the service whose published port should route');
        break;
      }
      const routes = readRoutes(ctx, e.value, p);
      if (routes !== undefined) policy.routes = routes;
      break;
    }
    case 'rate_limit': {
      const r = readRateLimit(ctx, e.value, p);
      if (r !== undefined) policy.rateLimit = r;
      break;
    }
    case 'circuit_breaker': {
      const c = readCircuitBreaker(ctx, e.value, p);
      if (c !== undefined) policy.circuitBreaker = c;
      break;
    }
    case 'retry': {
      if (map.entries.has('retries')) {
        ctx.issues.error(e.keyPos, p, '`retry` and `retries` are both set', '`retries: N` is the old spelling of `retry: {attempts: N}`; keep only `retry`');
      }
      const r = readRetry(ctx, e.value, p);
      if (r !== undefined) policy.retry = r;
      break;
    }
    case 'faults': {
      const f = readFaults(ctx, e.value, p);
      if (f !== undefined) policy.faults = f;
      break;
    }
  }
  if (Object.keys(policy).length === 0) delete o.policy;
}

/** A service's keys over x-cmesh.defaults, key by key; undefined when neither level sets any. */
export function resolvePolicy(defaults: { policy?: TrafficPolicy }, own: { policy?: TrafficPolicy; retries?: number }): TrafficPolicy | undefined {
  const d = defaults.policy ?? {};
  const s = own.policy ?? {};
  const out: TrafficPolicy = {};
  if (s.routes !== undefined) out.routes = s.routes;
  const rateLimit = s.rateLimit ?? d.rateLimit;
  if (rateLimit !== undefined) out.rateLimit = rateLimit;
  const circuitBreaker = s.circuitBreaker ?? d.circuitBreaker;
  if (circuitBreaker !== undefined) out.circuitBreaker = circuitBreaker;
  // A service's `retries: N` (the alias) still overrides the attempts of a defaults-level `retry`.
  const retry = s.retry ?? (d.retry === undefined ? undefined : { ...d.retry, attempts: own.retries ?? d.retry.attempts });
  if (retry !== undefined) out.retry = retry;
  const faults = s.faults ?? d.faults;
  if (faults !== undefined) out.faults = faults;
  return Object.keys(out).length === 0 ? undefined : out;
}
