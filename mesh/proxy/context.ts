// State shared by every request of one service's proxy: the pool, clients, retry budget, counters and callbacks.

import type { Socket } from 'node:net';
import type { MeshSpec } from '../../daemon/api/project.ts';
import type { AttemptOutcome, UpstreamPool } from '../upstream-pool.ts';
import type { ListenerPolicy } from '../policy/listener-policy.ts';
import type { AccessLogEntry, AccessLogSink, RequestCounter } from './access-log.ts';
import type { TrustedProxies } from './forwarded-headers.ts';
import type { HashKeyExtractor } from './hash-key.ts';
import type { ReadPath } from './llhttp.ts';
import type { RetryBudget } from './retry.ts';
import type { UpstreamClients } from './upstream-client.ts';

/**
 * One upstream attempt as reported to `onAttempt` (the daemon turns these into metrics): every attempt that failed
 * (outcome other than ok) and every retry or failover; HTTP/1.x leaves out a first attempt that answered.
 */
export interface AttemptStats {
  service: string;
  upstream: string;
  /** 1-based attempt number within the client request. */
  attempt: number;
  outcome: AttemptOutcome;
  latencyMs: number;
  status?: number;
  code?: string;
  /** What the proxy did next after a failed attempt. */
  next?: 'failover' | 'retry' | 'respond';
}

export interface ProxyStats {
  requests: number;
  active: number;
  attempts: number;
  /** Counted retries (replay-safe requests after reset / 502 / 503). */
  retries: number;
  /** Re-picks after a request that never reached a replica (connect refused/timeout). */
  failovers: number;
  budgetExhausted: number;
  /** Responses the proxy generated itself, by status. */
  errors: Record<number, number>;
}

export interface ProxyContext {
  service: string;
  pool: UpstreamPool;
  mesh: MeshSpec;
  trust: TrustedProxies;
  via: string | undefined;
  hashKey: HashKeyExtractor | undefined;
  clients: UpstreamClients;
  budget: RetryBudget;
  stats: ProxyStats;
  onAttempt: ((stats: AttemptStats) => void) | undefined;
  /** HTTP/1.x requests are counted here when set, without an entry (request-report.ts); HTTP/2 streams use onRequest. */
  countRequest: RequestCounter | undefined;
  onRequest: ((entry: AccessLogEntry) => void) | undefined;
  /** Set only when `mesh.accessLog` is on and a sink was given. */
  onAccessLog: AccessLogSink | undefined;
  /** While the listener drains, responses close their connections so clients reconnect elsewhere. */
  draining: boolean;
  /** Upgraded (WebSocket) and TCP tunnels, destroyed when the listener's drain bound passes. */
  tunnels: Set<Socket>;
  /** How client and replica sockets are parsed (see llhttp.ts). */
  readPath: ReadPath;
  /** Open HTTP client connections (upgraded ones leave this set for `tunnels`). */
  connections: Set<ServedConnection>;
  /** Routes, limits, breakers and faults of this published port; undefined = plain balancing over `pool`. */
  policy: ListenerPolicy | undefined;
  /** Takes HTTP/2 connections (mesh/h2): a plain one whose first bytes were the h2c preface comes with them. */
  h2?: { serve(socket: Socket, head?: Buffer): void };
}

/** An open client connection as the proxy's timers and drain see it. */
export interface ServedConnection {
  /** Checks its timeouts (called every tick). */
  sweep(now: number): void;
  /** Closes it if it waits for a request. */
  closeIfIdle(): void;
  destroy(): void;
}

export function newStats(): ProxyStats {
  return { requests: 0, active: 0, attempts: 0, retries: 0, failovers: 0, budgetExhausted: 0, errors: {} };
}

export function countError(ctx: ProxyContext, status: number): void {
  ctx.stats.errors[status] = (ctx.stats.errors[status] ?? 0) + 1;
}
