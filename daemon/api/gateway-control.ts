// The control channel between the daemon and a project's east-west gateway: NDJSON over a unix socket the daemon
// listens on, in a CMESH_HOME directory bind-mounted into the gateway (no IP traffic to the host, no privileges).
// daemon → gateway: the endpoint table; gateway → daemon: its service table rows (health, traffic per replica).
// Both ends validate what they read with these schemas: it crosses a process boundary. zod/mini, not classic: the
// gateway's worker bundle carries these, and classic zod was ~720 KB of its ~1 MB and ~14 MB of its RSS (issue #15).

import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import type { BreakerView, RouteTableView } from './policy-control.ts';
import type { ServiceTableRow } from './service-table.ts';
import type { MeshSpec } from './project.ts';
import { FaultSchema, TrafficPolicySchema, int } from './traffic-policy-schema.ts';

// English refusals in any process, classic loaded or not (as in traffic-policy-schema.ts, whose import runs it first:
// this one stands on its own should that import go).
if (!z.config().localeError) z.config(en());

export const GATEWAY_PROTOCOL_VERSION = 1;

const durationMs = int(0, 86_400_000);
const port = int(1, 65_535);
const count = int(0);
const nonEmpty = z.string().check(z.minLength(1));
const shortId = z.string().check(z.regex(/^[0-9a-f]{12}$/));
const protocol = z.enum(['http', 'tcp']);

const meshSchema = z.object({
  lb: z.enum(['round-robin', 'random', 'weighted', 'p2c', 'ewma', 'ring-hash']),
  protocol,
  weights: z.array(z.number().check(z.minimum(0))),
  weight: z.number().check(z.minimum(0)),
  health: z.object({
    path: z.optional(z.string()),
    port: z.optional(port),
    intervalMs: durationMs,
    timeoutMs: durationMs,
    rise: int(1),
    fall: int(1),
  }),
  retries: count,
  timeouts: z.object({ connectMs: durationMs, requestMs: durationMs, idleMs: durationMs }),
  hashKey: z.optional(z.string()),
  accessLog: z.boolean(),
  healthExplicit: z.boolean(),
  /** `protocol: h2c|grpc`: the replicas speak h2c (mesh/h2 balances per stream). */
  upstream: z.optional(z.literal('h2c')),
});

const replicaSchema = z.object({
  /** Pool id in the daemon (`web#2`, or `web#2~next` during a rollout). */
  id: nonEmpty,
  replica: int(1),
  /** Full container id; the gateway reaches it by its short id, which Docker DNS resolves on every shared network. */
  container: z.string().check(z.regex(/^[0-9a-f]{12,64}$/)),
  state: z.enum(['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead']),
  draining: z.boolean(),
  /**
   * The daemon's own probes find it healthy. A gateway meeting the replica for the first time (it just started: first
   * `up`, an upgrade, a recreate) starts from this instead of rising on probes of its own, so the callers Docker DNS
   * already sends to it are not answered 503 meanwhile. Its own probes take over from there.
   */
  healthy: z.optional(z.boolean()),
  /**
   * Its address on a project network every gateway of the project is on, when the daemon reaches it there (a `direct`
   * endpoint): the gateway connects to it as it is, with no Docker DNS lookup now or every refresh. Without it (an
   * engine that publishes replicas on loopback instead) the gateway resolves the container's short id.
   */
  address: z.optional(z.union([z.ipv4(), z.ipv6()])),
});

const serviceSchema = z.object({
  name: nonEmpty,
  /** The names callers use for it (service name and compose aliases): Host values that pick it on a shared port. */
  names: z.array(nonEmpty),
  ports: z.array(z.object({ port, protocol })).check(z.minLength(1)),
  /** The service's mesh settings; `health.port` is the port the gateway probes. */
  mesh: meshSchema,
  desired: count,
  replicas: z.array(replicaSchema),
  /**
   * Which gateway serves it (0: the first). Every gateway of a project gets the same table and serves only its own
   * services: those that collide on a TCP port sit in different gateways. Absent: 0.
   */
  gateway: z.optional(count),
  /** Its traffic policy (routes, limits, breaker, retry, faults): calls by name get what its published ports get. */
  policy: z.optional(TrafficPolicySchema),
  /** `cmesh fault` in effect for it (overrides the file's faults until cleared). */
  faults: z.optional(FaultSchema),
});

export const gatewayTableSchema = z.object({
  type: z.literal('table'),
  version: z.literal(GATEWAY_PROTOCOL_VERSION),
  project: nonEmpty,
  /** The worker bundle (in the gateway's /run/cmesh) to run: a worker running another asks its supervisor to swap. */
  worker: z.optional(z.string().check(z.regex(/^worker-[0-9a-f]{16}\.mjs$/))),
  /**
   * Gateway containers (their hostname: the short container id) being replaced start-first: each HTTP answer they give
   * carries `Connection: close` and their idle keep-alive connections are closed, so callers look the name up again.
   */
  drain: z.optional(z.array(shortId)),
  /** Of those, the ones drained: their listeners close (in-flight work finishes), before they leave the networks. */
  retire: z.optional(z.array(shortId)),
  /**
   * This project's gateway-0 services are served by the daemon's shared gateway (one container per daemon, kept
   * running and connected to each meshed project's networks), on these addresses: the shared container's addresses on
   * the project's networks. Its worker binds each port there only, so projects on one port do not collide. A table
   * without it (or with no address) takes the project off the shared gateway. A project's own gateway ignores it.
   */
  shared: z.optional(z.object({ addresses: z.array(z.union([z.ipv4(), z.ipv6()])) })),
  services: z.array(serviceSchema),
});

export type GatewayTable = z.infer<typeof gatewayTableSchema>;
export type GatewayService = z.infer<typeof serviceSchema>;
export type GatewayReplica = z.infer<typeof replicaSchema>;

/** The gateway's report: its own pools' rows, plus when it last had a table (it keeps serving the last one). */
export const gatewayStatsSchema = z.object({
  type: z.literal('stats'),
  version: z.literal(GATEWAY_PROTOCOL_VERSION),
  project: nonEmpty,
  /** The reporting gateway's index (several per project when TCP ports collide). Absent: 0. */
  gateway: z.optional(count),
  /** The reporting container's hostname (its short id): a start-first replacement tells the new gateway from the old. */
  host: z.optional(z.string().check(z.maxLength(64))),
  /** It was told to drain (the table's drain list names it): its HTTP answers carry `Connection: close`. */
  draining: z.optional(z.boolean()),
  /** It was told to retire: its listeners are closed and what was in flight there has finished (or was cut at the bound). */
  retired: z.optional(z.boolean()),
  time: z.number(),
  /** Rows as mesh/registry-types.ts shapes them; checked loosely (the daemon only forwards them to readers). */
  services: z.array(z.looseObject({ service: z.string(), replicas: z.array(z.looseObject({ id: z.string() })) })),
  /** Warnings the gateway wants the user to see (a port it could not bind, an unresolvable replica). */
  warnings: z.array(z.string()),
  /**
   * The services whose every port has a bound listener here: their names are answered (depends_on gates and
   * `up --wait` wait for it). Absent from a gateway older than this field.
   */
  serving: z.optional(z.array(z.string())),
  /** When this gateway process started: totals below restart from 0 with it. */
  startedAt: z.number(),
  /** Its route tables' counters and breakers (checked loosely: the daemon only passes them on to `cmesh routes`). */
  policy: z.optional(
    z.object({
      ports: z.array(z.looseObject({ service: z.string(), host: z.string(), port, routes: z.array(z.looseObject({ index: z.number() })) })),
      breakers: z.array(z.looseObject({ service: z.string() })),
    }),
  ),
  /**
   * HTTP requests since startedAt, cumulative, by service, answering replica (pool id), method and status class, and
   * with a route table the route (`#<index>`) and the target it picked; `reason`, a policy answer's code (rate-limited…).
   */
  requests: z.array(
    z.object({
      service: z.string(),
      upstream: z.optional(z.string()),
      method: z.string().check(z.maxLength(16)),
      codeClass: z.string().check(z.maxLength(8)),
      route: z.optional(z.string().check(z.maxLength(16))),
      target: z.optional(z.string()),
      reason: z.optional(z.string().check(z.maxLength(32))),
      count,
    }),
  ),
});

/** The gateway's traffic-policy counters (calls by name), as `cmesh routes` shows them. */
export interface GatewayPolicyReport {
  ports: RouteTableView[];
  breakers: BreakerView[];
}

export type GatewayStats = Omit<z.infer<typeof gatewayStatsSchema>, 'services' | 'policy'> & { services: ServiceTableRow[]; policy?: GatewayPolicyReport };

export type GatewayMessage = GatewayTable | GatewayStats;

/** The mesh fields the gateway needs, from a full MeshSpec (bind, rollout… are the daemon's business). */
export function gatewayMesh(m: MeshSpec, probePort: number): GatewayService['mesh'] {
  return {
    lb: m.lb,
    protocol: m.protocol,
    weights: m.weights,
    weight: m.weight,
    health: { ...m.health, port: probePort },
    retries: m.retries,
    timeouts: m.timeouts,
    ...(m.hashKey === undefined ? {} : { hashKey: m.hashKey }),
    accessLog: m.accessLog,
    healthExplicit: m.healthExplicit,
    ...(m.upstream === undefined ? {} : { upstream: m.upstream }),
  };
}

/** Parses one NDJSON line; undefined (never a throw) for a line that is not valid JSON or not a known message. */
export function parseGatewayLine<T>(line: string, schema: z.ZodMiniType<T>): T | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  const r = schema.safeParse(raw);
  return r.success ? r.data : undefined;
}
