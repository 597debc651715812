// The HTTP reverse proxy for one service: serves client connections (llhttp-parsed) and balances over the pool.

import type { Socket } from 'node:net';
import type { MeshSpec } from '../../daemon/api/project.ts';
import type { ListenerPolicy } from '../policy/listener-policy.ts';
import type { UpstreamPool } from '../upstream-pool.ts';
import type { AccessLogEntry, AccessLogSink, RequestCounter } from './access-log.ts';
import { ClientConnection, type ClientLimits } from './client-connection.ts';
import { type AttemptStats, type ProxyContext, type ProxyStats, newStats } from './context.ts';
import { TrustedProxies } from './forwarded-headers.ts';
import { H2Front } from '../h2/front.ts';
import { compileHashKey } from './hash-key.ts';
import { type ReadPath, readPaths } from './llhttp.ts';
import { RetryBudget } from './retry.ts';
import { addSweeper, removeSweeper } from './ticker.ts';
import { UpstreamClients } from './upstream-client.ts';

export interface HttpProxyOptions {
  service: string;
  pool: UpstreamPool;
  mesh: MeshSpec;
  /** Peers (IPs or CIDRs) whose X-Forwarded-* headers are believed and extended; everyone else's are replaced. */
  trustedProxies?: string[];
  /** Adds `Via: 1.1 <via>` upstream when set (off by default: some apps echo it). */
  via?: string;
  /** Receives one JSON line per request when `mesh.accessLog` is on. */
  onAccessLog?: AccessLogSink;
  /** Every upstream attempt's outcome, for metrics and the dashboard. */
  onAttempt?: (stats: AttemptStats) => void;
  /** Every finished client request (whatever `mesh.accessLog` says), for request metrics. */
  onRequest?: (entry: AccessLogEntry) => void;
  /** Counts finished HTTP/1.x requests in plain values instead of onRequest (no entry object); HTTP/2 streams still go to onRequest. */
  countRequest?: RequestCounter;
  /** Retry budget: retries in flight ≤ percent × active requests, at least minConcurrent (defaults 0.2 and 3). */
  retryBudget?: { percent?: number; minConcurrent?: number };
  /** Keep-alive connections per replica (default 64). */
  connectionsPerReplica?: number;
  /** The daemon log, for what the operator should know once (the parser falling back to its slower read path). */
  log?: (line: string) => void;
  /** How sockets are parsed; by default what the load-time parser check allows. `data` forces the fallback (tests). */
  readPath?: ReadPath;
  /** Traffic policy of this published port (mesh/policy); updated in place on `up`. */
  policy?: ListenerPolicy;
}

export interface HttpProxy {
  readonly kind: 'http';
  readonly service: string;
  readonly mesh: MeshSpec;
  /** How this proxy's sockets are parsed (llhttp.ts). */
  readonly readPath: ReadPath;
  /** The port's traffic policy, if it has one. */
  readonly policy: ListenerPolicy | undefined;
  /** Serves one accepted client socket (from a `net.Server` with allowHalfOpen) under the listener's limits. */
  handleConnection(socket: Socket, limits: ClientLimits): void;
  /** Serves a TLS socket whose client chose `h2` by ALPN. */
  serveH2(socket: Socket): void;
  /** Closes the connection pool of a replica that left the service (requests running there finish first). */
  closeUpstream(id: string): Promise<void>;
  stats(): ProxyStats;
  /** In-flight HTTP requests plus open tunnels, for the listener's drain. */
  inFlight(): number;
  /** From now on responses carry `Connection: close`. */
  startDraining(): void;
  /** The drain was called off: responses keep connections alive again (h2 sessions already sent GOAWAY still go). */
  stopDraining(): void;
  /** Closes client connections that wait for a request (keep-alive), for the listener's drain. */
  closeIdleConnections(): void;
  /** Destroys every client connection and open tunnel (after the drain bound). */
  destroyConnections(): void;
  /** Closes all upstream pools; `force` drops running requests. */
  close(force?: boolean): Promise<void>;
}

export function createHttpProxy(o: HttpProxyOptions): HttpProxy {
  const readPath = o.readPath ?? readPaths.choose(o.log);
  const ctx: ProxyContext = {
    service: o.service,
    pool: o.pool,
    mesh: o.mesh,
    trust: new TrustedProxies(o.trustedProxies),
    via: o.via,
    hashKey: compileHashKey(o.mesh.hashKey),
    clients: new UpstreamClients({
      connectTimeoutMs: o.mesh.timeouts.connectMs,
      bodyTimeoutMs: o.mesh.timeouts.idleMs,
      ...(o.connectionsPerReplica === undefined ? {} : { connections: o.connectionsPerReplica }),
      readPath,
    }),
    budget: new RetryBudget(o.retryBudget?.percent, o.retryBudget?.minConcurrent),
    stats: newStats(),
    onAttempt: o.onAttempt,
    countRequest: o.countRequest,
    onRequest: o.onRequest,
    onAccessLog: o.mesh.accessLog ? o.onAccessLog : undefined,
    draining: false,
    readPath,
    tunnels: new Set(),
    connections: new Set(),
    policy: o.policy,
  };
  const h2 = new H2Front(ctx);
  ctx.h2 = h2;
  // Client-side timeouts (slowloris, request, keep-alive) are checked on the shared tick, not with timers.
  const sweeper = {
    sweep(now: number): void {
      for (const c of ctx.connections) c.sweep(now);
    },
  };
  let sweeping = false;

  return {
    kind: 'http',
    service: o.service,
    mesh: o.mesh,
    readPath,
    policy: o.policy,
    handleConnection: (socket, limits) => {
      if (!sweeping) {
        sweeping = true;
        addSweeper(sweeper);
      }
      // Replicas that speak only h2c: HTTP/1.1 clients are served by mesh/h2 too (not the llhttp path, which speaks h1).
      if (o.mesh.upstream === 'h2c') h2.serveSniffing(socket, limits);
      else new ClientConnection(ctx, socket, limits);
    },
    serveH2: (socket) => h2.serve(socket),
    closeUpstream: (id) => {
      h2.closeUpstream(id);
      return ctx.clients.closeUpstream(id);
    },
    stats: () => ({ ...ctx.stats, errors: { ...ctx.stats.errors } }),
    inFlight: () => ctx.stats.active + ctx.tunnels.size,
    startDraining: () => {
      ctx.draining = true;
      h2.drain();
    },
    stopDraining: () => {
      ctx.draining = false;
      h2.undrain();
    },
    closeIdleConnections: () => {
      for (const c of [...ctx.connections]) c.closeIfIdle();
    },
    destroyConnections: () => {
      for (const c of [...ctx.connections]) c.destroy();
      h2.destroy();
      for (const s of ctx.tunnels) s.destroy();
      ctx.tunnels.clear();
    },
    close: async (force = false) => {
      if (sweeping) {
        sweeping = false;
        removeSweeper(sweeper);
      }
      h2.close(force);
      await (force ? ctx.clients.destroy() : ctx.clients.close());
    },
  };
}
