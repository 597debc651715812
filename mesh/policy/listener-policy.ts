// What the policy decides for one request on a published port: answer it here (redirect, 404 no route, 429, fault,
// 503 overflow) or forward it to a target service's pool, with its path and headers edited and maybe a delay.

import type { MeshSpec } from '../../daemon/api/project.ts';
import type { HeaderEdits, RetrySpec, RouteTarget, TrafficPolicy } from '../../daemon/api/traffic-policy.ts';
import type { UpstreamPool } from '../upstream-pool.ts';
import { editHeaders, redirectResponse } from './actions.ts';
import { type CircuitBreaker, overflowResponse } from './breaker.ts';
import { faultResponse } from './faults.ts';
import { normalizePath } from './path-normalize.ts';
import type { ProjectPolicyState } from './project-state.ts';
import { rateLimitedResponse, rateLimitKey } from './rate-limit.ts';
import { type RequestView, splitTarget } from './route-match.ts';
import { type CompiledRoute, RouteTable, targetName } from './route-table.ts';

/** A target service as the listener reaches it: its pool for the chosen container port and its mesh settings. */
export interface ResolvedTarget {
  service: string;
  pool: UpstreamPool;
  mesh: MeshSpec;
}

export type Answer = {
  kind: 'answer';
  status: number;
  code: string;
  render: (close: boolean) => string;
  route?: CompiledRoute;
  /** The target service a route picked before the policy refused the request: logs and metrics name it, not the listener. */
  target?: string;
};

export interface Forward {
  kind: 'forward';
  target: ResolvedTarget;
  /** The request target after strip_prefix / rewrite. */
  url: string;
  headers: readonly string[];
  responseHeaders: HeaderEdits | undefined;
  delayMs: number;
  breaker: CircuitBreaker;
  route: CompiledRoute | undefined;
  /** Per-route overrides of the target's retries and timeouts. */
  retries: number;
  timeouts: MeshSpec['timeouts'];
  /** The route's `retry`, else the target's: which failures are retried and the per-try timeout. */
  retry: RetrySpec | undefined;
}

export interface ListenerPolicyOptions {
  service: string;
  /** The published port's container port: a target without `:port` prefers its port with this number. */
  listenerPort: number;
  state: ProjectPolicyState;
  /** Resolves a route target to a pool; undefined when the service is gone from the project. */
  resolve(target: Pick<RouteTarget, 'service' | 'port'>, listenerPort: number): ResolvedTarget | undefined;
}

export class ListenerPolicy {
  readonly #o: ListenerPolicyOptions;
  #table: RouteTable | undefined;
  #policy: TrafficPolicy;
  /** The state's generation `#plain` was worked out for (-1: not yet, or the policy changed since). */
  #plainAt = -1;
  #plain = false;

  constructor(o: ListenerPolicyOptions, policy: TrafficPolicy | undefined) {
    this.#o = o;
    this.#policy = policy ?? {};
    this.#table = this.#compile(undefined);
  }

  get table(): RouteTable | undefined {
    return this.#table;
  }

  /** A new policy from `up`: the next request uses it; requests under way keep what they were given. */
  update(policy: TrafficPolicy | undefined): void {
    const next = policy ?? {};
    // Every resync re-applies the project's spec: an unchanged policy keeps its table, so the splits' rotation and
    // the per-route buckets carry on (a rebuild would hand every route limit a fresh burst).
    if (next === this.#policy || JSON.stringify(next) === JSON.stringify(this.#policy)) return;
    this.#policy = next;
    this.#table = this.#compile(this.#table);
    this.#plainAt = -1;
  }

  #compile(previous: RouteTable | undefined): RouteTable | undefined {
    if (this.#policy.routes === undefined || this.#policy.routes.length === 0) return undefined;
    return new RouteTable(this.#policy, {}, previous);
  }

  /** undefined: nothing applies to this request, the proxy balances over its own pool as without a policy. */
  decide(method: string, url: string, rawHeaders: readonly string[], clientIp: string): Answer | Forward | undefined {
    const { state, service } = this.#o;
    const table = this.#table;
    // The plain path stays plain: no route table, no limit, no faults, no breaker, no retry policy on this service.
    // Worked out once per change of the project's policy state, not per request (three lookups less).
    if (this.#plainAt !== state.generation) {
      this.#plainAt = state.generation;
      this.#plain = table === undefined && this.#policy.retry === undefined && !state.limited.has(service) && !state.limiters.has(service) && !state.faults.has(service);
    }
    if (this.#plain) return undefined;
    let route: CompiledRoute | undefined;
    let target: Pick<RouteTarget, 'service' | 'port'> = { service };
    // With a route table, the upstream gets the normalized path the route was chosen on (as Envoy's normalize_path).
    let forwardUrl = url;
    if (table !== undefined) {
      const origin = originOf(url);
      const { path: raw, query } = splitTarget(url.slice(origin.length) || '/');
      const path = normalizePath(raw);
      if (path !== raw) forwardUrl = `${origin}${path}${query === '' ? '' : `?${query}`}`;
      const view: RequestView = { method, path, query, rawHeaders };
      route = table.select(view);
      if (route === undefined) return notFound(service);
      route.counters.requests++;
      if (route.spec.redirect !== undefined) {
        const r = route.spec.redirect;
        return { kind: 'answer', status: r.status, code: 'redirect', render: (close) => redirectResponse(r, url, close), route };
      }
      target = route.pick()!;
    }
    // Answers from here on concern the picked target (its limit, faults, breaker): they are counted under it.
    // The route's (else the listener service's) limit first, then the target service's own.
    const own = route?.spec.rateLimit !== undefined ? route.limiter : state.limiters.get(service);
    const targets = target.service === service ? undefined : state.limiters.get(target.service);
    for (const l of [own, targets]) {
      if (l === undefined) continue;
      const wait = l.take(rateLimitKey(l.spec, clientIp, rawHeaders, service, route));
      if (wait === 0) continue;
      if (route !== undefined) route.counters.rateLimited++;
      const limited = l === own ? service : target.service;
      return { kind: 'answer', status: 429, code: 'rate-limited', render: (close) => rateLimitedResponse(wait, limited, close), ...(route ? { route } : {}), target: target.service };
    }
    const faults = route?.spec.faults !== undefined ? route.faults : state.faults.get(target.service);
    const fault = faults?.decide();
    if (fault !== undefined && fault.abortStatus > 0) {
      const status = fault.abortStatus;
      return { kind: 'answer', status, code: 'fault-injected', render: (close) => faultResponse(status, target.service, close), ...(route ? { route } : {}), target: target.service };
    }
    const resolved = this.#o.resolve(target, this.#o.listenerPort);
    if (resolved === undefined) return notFound(service);
    const breaker = state.breaker(target.service);
    const admitted = breaker.admit();
    if (admitted !== 'ok') {
      return { kind: 'answer', status: 503, code: 'overflow', render: (close) => overflowResponse(target.service, admitted, close), ...(route ? { route } : {}), target: target.service };
    }
    if (route !== undefined) {
      const name = targetName(target);
      route.counters.byTarget[name] = (route.counters.byTarget[name] ?? 0) + 1;
    }
    const spec = route?.spec;
    return {
      kind: 'forward',
      target: resolved,
      url: route?.rewrite === undefined ? forwardUrl : rewriteUrl(forwardUrl, route.rewrite),
      headers: spec?.requestHeaders === undefined ? rawHeaders : editHeaders(rawHeaders, spec.requestHeaders),
      responseHeaders: spec?.responseHeaders,
      delayMs: fault?.delayMs ?? 0,
      breaker,
      route,
      retries: spec?.retry?.attempts ?? resolved.mesh.retries,
      timeouts: spec?.timeouts === undefined ? resolved.mesh.timeouts : { ...resolved.mesh.timeouts, ...spec.timeouts },
      retry: spec?.retry ?? resolved.mesh.policy?.retry,
    };
  }
}

/** `http://host` of an absolute-form target (`GET http://host/path`), '' for the usual origin form. */
function originOf(url: string): string {
  return url.startsWith('/') ? '' : (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url)?.[0] ?? '');
}

function rewriteUrl(url: string, rewrite: (path: string) => string): string {
  // Absolute-form targets keep their scheme and authority.
  const origin = originOf(url);
  const { path, query } = splitTarget(url.slice(origin.length) || '/');
  return `${origin}${rewrite(path)}${query === '' ? '' : `?${query}`}`;
}

function notFound(service: string): Answer {
  const payload = `cmesh: no route of service "${service}" matches this request\n`;
  return {
    kind: 'answer',
    status: 404,
    code: 'no-route',
    render: (close) =>
      `HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n` +
      `X-Cmesh-Error: no-route\r\nCache-Control: no-store\r\n${close ? 'Connection: close\r\n' : ''}\r\n${payload}`,
  };
}
