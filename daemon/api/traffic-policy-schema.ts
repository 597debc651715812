// The TrafficPolicy (traffic-policy.ts) as a zod schema for the control API, pinned to its types with Same<>.
// Regexes are compiled here too: a client that skipped the loader must not hand the proxy a pattern that throws.

import { z } from 'zod';
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

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
const key = z.string().refine((k) => !FORBIDDEN.has(k), { message: 'key not allowed' });
const record = <V extends z.ZodType>(value: V) => z.record(key, value);
const ms = z.number().min(0);
const percent = z.number().min(0).max(100);
const regex = z
  .string()
  .max(1000)
  .refine(
    (s) => {
      try {
        new RegExp(s);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'invalid regex' },
  );
const path = z.string().startsWith('/');
const noCrlf = z.string().refine((s) => !/[\r\n\0]/.test(s), { message: 'CR, LF or NUL not allowed' });
const headerName = z.string().regex(/^[a-z0-9!#$%&'*+.^_`|~-]+$/);

const ValueMatchSchema = z.union([z.strictObject({ exact: z.string() }), z.strictObject({ regex }), z.strictObject({ present: z.literal(true) })]);

const RouteMatchSchema = z.strictObject({
  pathPrefix: path.optional(),
  path: path.optional(),
  pathRegex: regex.optional(),
  methods: z.array(z.string().regex(/^[A-Z]+$/)).optional(),
  headers: record(ValueMatchSchema).optional(),
  query: record(ValueMatchSchema).optional(),
});

const RouteTargetSchema = z.strictObject({
  service: z.string().min(1),
  port: z.number().int().min(1).max(65_535).optional(),
  weight: z.number().min(0),
});

const HeaderEditsSchema = z.strictObject({ set: z.record(headerName.refine((k) => !FORBIDDEN.has(k)), noCrlf), remove: z.array(headerName) });

const RateLimitSchema = z.strictObject({
  requestsPerSecond: z.number().positive(),
  burst: z.number().int().min(1),
  key: z.string().regex(/^(ip|route|header:[a-z0-9-]+)$/),
});

const CircuitBreakerSchema = z.strictObject({
  maxConnections: z.number().int().min(1).optional(),
  maxPending: z.number().int().min(1).optional(),
  maxRequests: z.number().int().min(1).optional(),
});

const RetrySchema = z.strictObject({
  on: z.array(z.enum(['connect-failure', 'reset', 'timeout'])),
  statuses: z.array(z.number().int().min(400).max(599)),
  attempts: z.number().int().min(0).max(100),
  perTryTimeoutMs: ms.optional(),
});

export const FaultSchema = z.strictObject({
  delay: z.strictObject({ percent, durationMs: ms }).optional(),
  abort: z.strictObject({ percent, status: z.number().int().min(200).max(599) }).optional(),
});

const TimeoutOverridesSchema = z.strictObject({ connectMs: ms.optional(), requestMs: ms.optional(), idleMs: ms.optional() });

const RouteSchema = z.strictObject({
  match: RouteMatchSchema,
  to: z.array(RouteTargetSchema),
  stripPrefix: path.optional(),
  rewrite: z.strictObject({ pathRegex: regex, replace: z.string() }).optional(),
  requestHeaders: HeaderEditsSchema.optional(),
  responseHeaders: HeaderEditsSchema.optional(),
  redirect: z.strictObject({ to: noCrlf, status: z.number().int().refine((n) => [301, 302, 303, 307, 308].includes(n), { message: 'not a redirect status' }) }).optional(),
  rateLimit: RateLimitSchema.optional(),
  retry: RetrySchema.optional(),
  timeouts: TimeoutOverridesSchema.optional(),
  faults: FaultSchema.optional(),
});

export const TrafficPolicySchema = z.strictObject({
  routes: z.array(RouteSchema).optional(),
  rateLimit: RateLimitSchema.optional(),
  circuitBreaker: CircuitBreakerSchema.optional(),
  retry: RetrySchema.optional(),
  faults: FaultSchema.optional(),
});

type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Out<S extends z.ZodType> = z.output<S>;

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
