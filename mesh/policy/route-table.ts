// A published port's route table compiled for the hot path: first matching route, its weighted target, its path
// and header actions and its own limits. Counters per route feed `cmesh routes` and metrics.

import type { HeaderEdits, RouteSpec, RouteTarget, TrafficPolicy } from '../../daemon/api/traffic-policy.ts';
import { compilePathRewrite, type PathRewrite } from './actions.ts';
import { FaultInjector } from './faults.ts';
import { RateLimiter } from './rate-limit.ts';
import { compileMatch, type RequestView, type RoutePredicate } from './route-match.ts';
import { SmoothWeighted } from './split.ts';

export interface RouteCounters {
  requests: number;
  /** Requests sent on per target, by `service` or `service:port`. */
  byTarget: Record<string, number>;
  rateLimited: number;
}

export interface CompiledRoute {
  index: number;
  /** Human form of the match for `cmesh routes`, e.g. `path_prefix=/admin/ headers.x-canary=1`. */
  label: string;
  spec: RouteSpec;
  matches: RoutePredicate;
  rewrite: PathRewrite | undefined;
  requestHeaders: HeaderEdits | undefined;
  responseHeaders: HeaderEdits | undefined;
  /** The route's own limiter (per-route rate_limit), else the service's. */
  limiter: RateLimiter | undefined;
  faults: FaultInjector | undefined;
  counters: RouteCounters;
  /** Next target by weight; undefined for a redirect route. */
  pick(): RouteTarget | undefined;
}

export function targetName(t: Pick<RouteTarget, 'service' | 'port'>): string {
  return t.port === undefined ? t.service : `${t.service}:${t.port}`;
}

export function describeMatch(spec: RouteSpec): string {
  const m = spec.match;
  const parts: string[] = [];
  if (m.methods) parts.push(`method=${m.methods.join(',')}`);
  if (m.path !== undefined) parts.push(`path=${m.path}`);
  if (m.pathPrefix !== undefined) parts.push(`path_prefix=${m.pathPrefix}`);
  if (m.pathRegex !== undefined) parts.push(`path_regex=${m.pathRegex}`);
  for (const [kind, conds] of [['headers', m.headers], ['query', m.query]] as const) {
    for (const [k, c] of Object.entries(conds ?? {})) {
      parts.push(`${kind}.${k}${'exact' in c ? `=${c.exact}` : 'regex' in c ? `~${c.regex}` : ' present'}`);
    }
  }
  return parts.length === 0 ? '*' : parts.join(' ');
}

export class RouteTable {
  readonly routes: CompiledRoute[];

  /** `shared` is the service-level limiter and faults, used by routes that set none of their own. */
  constructor(policy: TrafficPolicy, shared: { limiter?: RateLimiter; faults?: FaultInjector } = {}, previous?: RouteTable) {
    this.routes = (policy.routes ?? []).map((spec, index) => {
      // Counters of a route with the same match survive an `up` that edits weights.
      const label = describeMatch(spec);
      const before = previous?.routes[index];
      const counters = before !== undefined && before.label === label ? before.counters : { requests: 0, byTarget: {}, rateLimited: 0 };
      return {
        index,
        label,
        spec,
        matches: compileMatch(spec.match),
        rewrite: compilePathRewrite(spec),
        requestHeaders: spec.requestHeaders,
        responseHeaders: spec.responseHeaders,
        limiter: spec.rateLimit === undefined ? shared.limiter : new RateLimiter(spec.rateLimit),
        faults: spec.faults === undefined ? shared.faults : new FaultInjector(spec.faults),
        counters,
        pick: splitPicker(spec.to),
      };
    });
  }

  /** First route whose conditions hold; undefined when none does. */
  select(r: RequestView): CompiledRoute | undefined {
    for (const route of this.routes) if (route.matches(r)) return route;
    return undefined;
  }
}

/**
 * A route's weighted pick. Built outside RouteTable's constructor on purpose: a closure made there shares the
 * constructor's context, which holds `previous`, so every table would keep the one before it alive — an unbounded
 * chain, one table per resync (found with heap snapshots of bench/policy.ts's breaker flood).
 */
function splitPicker(to: readonly RouteTarget[]): () => RouteTarget | undefined {
  const positive = to.filter((t) => t.weight > 0);
  if (positive.length === 0) return () => undefined;
  const split = new SmoothWeighted(positive.map((t) => t.weight));
  return () => positive[split.pick()];
}
