// The TrafficPolicy (traffic-policy.ts) as a zod schema for the control API, pinned to its types with Same<>.
// Regexes are compiled here too: a client that skipped the loader must not hand the proxy a pattern that throws.
// zod/mini (the same zod 4 core, functional API): the gateway's worker bundle validates its table with these and
// gateway-control.ts, and classic zod would add ~720 KB and ~14 MB RSS to every gateway's boot (issue #15). The
// control API's classic schemas nest them as they are (z.optional(TrafficPolicySchema)): same issues, same texts.

import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import type {
  CircuitBreakerSpec,
  FaultSpec,
  HeaderEdits,
  RateLimitSpec,
  RetrySpec,
  RouteMatch,
  RouteSpec,
  RouteTarget,
  TimeoutOverrides,
  TrafficPolicy,
  ValueMatch,
} from './traffic-policy.ts';

// zod/mini registers no locale: classic's first schema registers English, in whatever process happens to load classic.
// Without it (the gateway's worker loads none) every refusal reads "Invalid input". As classic does it: only when no
// locale is set, so an explicit z.config(locale) elsewhere wins whatever the load order. One locale, not zod/locales:
// the worker bundle carries only this.
if (!z.config().localeError) z.config(en());

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
const key = z.string().check(z.refine((k) => !FORBIDDEN.has(k), { message: 'key not allowed' }));
const record = <V extends z.ZodMiniType>(value: V) => z.record(key, value);
const ms = z.number().check(z.minimum(0));
const percent = z.number().check(z.minimum(0), z.maximum(100));
const regex = z.string().check(
  z.maxLength(1000),
  z.refine(
    (s) => {
      try {
        new RegExp(s);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'invalid regex' },
  ),
);
const path = z.string().check(z.startsWith('/'));
const noCrlf = z.string().check(z.refine((s) => !/[\r\n\0]/.test(s), { message: 'CR, LF or NUL not allowed' }));
const headerName = z.string().check(z.regex(/^[a-z0-9!#$%&'*+.^_`|~-]+$/));
/** An integer in [min, max] (classic's `z.number().int().min(min).max(max)`: the same checks, in the same order). */
export const int = (min: number, max?: number) => (max === undefined ? z.int().check(z.minimum(min)) : z.int().check(z.minimum(min), z.maximum(max)));

const ValueMatchSchema = z.union([z.strictObject({ exact: z.string() }), z.strictObject({ regex }), z.strictObject({ present: z.literal(true) })]);

const RouteMatchSchema = z.strictObject({
  pathPrefix: z.optional(path),
  path: z.optional(path),
  pathRegex: z.optional(regex),
  methods: z.optional(z.array(z.string().check(z.regex(/^[A-Z]+$/)))),
  headers: z.optional(record(ValueMatchSchema)),
  query: z.optional(record(ValueMatchSchema)),
});

const RouteTargetSchema = z.strictObject({
  service: z.string().check(z.minLength(1)),
  port: z.optional(int(1, 65_535)),
  weight: z.number().check(z.minimum(0)),
});

const HeaderEditsSchema = z.strictObject({
  set: z.record(headerName.check(z.refine((k) => !FORBIDDEN.has(k))), noCrlf),
  remove: z.array(headerName),
});

const RateLimitSchema = z.strictObject({
  requestsPerSecond: z.number().check(z.positive()),
  burst: int(1),
  key: z.string().check(z.regex(/^(ip|route|header:[a-z0-9-]+)$/)),
});

const CircuitBreakerSchema = z.strictObject({
  maxConnections: z.optional(int(1)),
  maxPending: z.optional(int(1)),
  maxRequests: z.optional(int(1)),
});

const RetrySchema = z.strictObject({
  on: z.array(z.enum(['connect-failure', 'reset', 'timeout'])),
  statuses: z.array(int(400, 599)),
  attempts: int(0, 100),
  perTryTimeoutMs: z.optional(ms),
});

export const FaultSchema = z.strictObject({
  delay: z.optional(z.strictObject({ percent, durationMs: ms })),
  abort: z.optional(z.strictObject({ percent, status: int(200, 599) })),
});

const TimeoutOverridesSchema = z.strictObject({ connectMs: z.optional(ms), requestMs: z.optional(ms), idleMs: z.optional(ms) });

const redirectStatus = z.int().check(z.refine((n) => [301, 302, 303, 307, 308].includes(n), { message: 'not a redirect status' }));

const RouteSchema = z.strictObject({
  match: RouteMatchSchema,
  to: z.array(RouteTargetSchema),
  stripPrefix: z.optional(path),
  rewrite: z.optional(z.strictObject({ pathRegex: regex, replace: z.string() })),
  requestHeaders: z.optional(HeaderEditsSchema),
  responseHeaders: z.optional(HeaderEditsSchema),
  redirect: z.optional(z.strictObject({ to: noCrlf, status: redirectStatus })),
  rateLimit: z.optional(RateLimitSchema),
  retry: z.optional(RetrySchema),
  timeouts: z.optional(TimeoutOverridesSchema),
  faults: z.optional(FaultSchema),
});

export const TrafficPolicySchema = z.strictObject({
  routes: z.optional(z.array(RouteSchema)),
  rateLimit: z.optional(RateLimitSchema),
  circuitBreaker: z.optional(CircuitBreakerSchema),
  retry: z.optional(RetrySchema),
  faults: z.optional(FaultSchema),
});

type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Out<S extends z.ZodMiniType> = z.output<S>;

true satisfies Same<Out<typeof ValueMatchSchema>, ValueMatch>;
true satisfies Same<Out<typeof RouteMatchSchema>, RouteMatch>;
true satisfies Same<Out<typeof RouteTargetSchema>, RouteTarget>;
true satisfies Same<Out<typeof HeaderEditsSchema>, HeaderEdits>;
true satisfies Same<Out<typeof RateLimitSchema>, RateLimitSpec>;
true satisfies Same<Out<typeof CircuitBreakerSchema>, CircuitBreakerSpec>;
true satisfies Same<Out<typeof RetrySchema>, RetrySpec>;
true satisfies Same<Out<typeof FaultSchema>, FaultSpec>;
true satisfies Same<Out<typeof TimeoutOverridesSchema>, TimeoutOverrides>;
true satisfies Same<Out<typeof RouteSchema>, RouteSpec>;
true satisfies Same<Out<typeof TrafficPolicySchema>, TrafficPolicy>;
