// A service's `x-cmesh` mesh settings (balancing, health probe, timeouts, traffic policy), with defaults applied.
// Part of the project model (project.ts re-exports these names).

import type { TlsSpec } from './tls.ts';
import type { TrafficPolicy } from './traffic-policy.ts';

export type LbStrategy = 'round-robin' | 'random' | 'weighted' | 'p2c' | 'ewma' | 'ring-hash';
export type Protocol = 'http' | 'tcp';

export interface HealthProbe {
  /** HTTP path for an HTTP probe; undefined means a TCP connect probe. */
  path?: string;
  port?: number;
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
}

/** Our `x-cmesh` keys at service level, with defaults applied. */
export interface MeshSpec {
  lb: LbStrategy;
  protocol: Protocol;
  /** Per-replica weights (index 0 = replica 1); missing entries use `weight`. */
  weights: number[];
  weight: number;
  health: HealthProbe;
  retries: number;
  timeouts: { connectMs: number; requestMs: number; idleMs: number };
  /** Bind address override for published ports. */
  bind?: string;
  /** Consistent-hash key for lb=ring-hash: `header:<name>`, `cookie:<name>` or `ip`. */
  hashKey?: string;
  accessLog: boolean;
  /** `rollout.max_surge`: new replicas a start-first rollout starts at once; undefined = 1 (plan-rollout.ts). */
  rollout?: { maxSurge: number };
  /** True when health came from x-cmesh or was derived from the compose healthcheck, false when the TCP default. */
  healthExplicit: boolean;
  /** True when `protocol` was set in x-cmesh (east-west treats only a declared `http` as HTTP on unpublished ports). */
  protocolExplicit?: boolean;
  /** `protocol: h2c` (alias `grpc`): replicas speak HTTP/2 in clear, one long-lived session each, balanced per stream. */
  upstream?: 'h2c';
  /** `protocol: grpc` was declared (the alias of h2c): `cmesh services` and `cmesh config` say `grpc`, not `h2c`. */
  protocolAlias?: 'grpc';
  /** `x-cmesh.mesh: false`: the service opts out of the east-west mesh (plain Docker DNS). Undefined = meshed. */
  eastWest?: boolean;
  /** `x-cmesh.ports`: more container ports the east-west mesh serves besides `ports` and `expose`. */
  ports?: number[];
  /** routes, rate_limit, circuit_breaker, retry, faults (traffic-policy.ts); absent when none is set. */
  policy?: TrafficPolicy;
  /** `x-cmesh.tls`: published HTTP ports are served over TLS by the local CA's certificates. */
  tls?: TlsSpec;
}
