// The HTTP reverse proxy for one service: node:http request and upgrade handlers that balance over the service's pool.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { MeshSpec } from '../../daemon/api/project.ts';
import type { UpstreamPool } from '../upstream-pool.ts';
import type { AccessLogEntry, AccessLogSink } from './access-log.ts';
import { type AttemptStats, type ProxyContext, type ProxyStats, countError, newStats } from './context.ts';
import { type ProxyError, sendProxyError } from './error-responses.ts';
import { TrustedProxies, normalizeIp, upstreamRequestHeaders } from './forwarded-headers.ts';
import { compileHashKey } from './hash-key.ts';
import { Exchange } from './http-exchange.ts';
import { duplicateHost, parseTarget } from './request-target.ts';
import { RetryBudget } from './retry.ts';
import { UpstreamClients } from './upstream-client.ts';
import { handleUpgrade } from './websocket.ts';

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
  /** Retry budget: retries in flight ≤ percent × active requests, at least minConcurrent (defaults 0.2 and 3). */
  retryBudget?: { percent?: number; minConcurrent?: number };
  /** Keep-alive connections per replica (default 64). */
  connectionsPerReplica?: number;
}

export interface HttpProxy {
  readonly kind: 'http';
  readonly service: string;
  readonly mesh: MeshSpec;
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void;
  /** Closes the connection pool of a replica that left the service (requests running there finish first). */
  closeUpstream(id: string): Promise<void>;
  stats(): ProxyStats;
  /** In-flight HTTP requests plus open tunnels, for the listener's drain. */
  inFlight(): number;
  /** From now on responses carry `Connection: close`. */
  startDraining(): void;
  /** Destroys open tunnels (after the drain bound). */
  destroyTunnels(): void;
  /** Closes all upstream pools; `force` drops running requests. */
  close(force?: boolean): Promise<void>;
}

export function createHttpProxy(o: HttpProxyOptions): HttpProxy {
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
    }),
    budget: new RetryBudget(o.retryBudget?.percent, o.retryBudget?.minConcurrent),
    stats: newStats(),
    onAttempt: o.onAttempt,
    onRequest: o.onRequest,
    onAccessLog: o.mesh.accessLog ? o.onAccessLog : undefined,
    draining: false,
    tunnels: new Set(),
  };

  // Connections whose request we refused: requests pipelined behind it are dropped, not forwarded, since a client
  // that sent one malformed request has told us its framing cannot be trusted (the 400 closes the connection).
  const refused = new WeakSet<Socket>();
  const reject = (req: IncomingMessage, res: ServerResponse, e: ProxyError): void => {
    countError(ctx, e.status);
    refused.add(req.socket);
    sendProxyError(res, e, true);
  };

  const handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (refused.has(req.socket)) {
      req.resume();
      return;
    }
    ctx.stats.requests++;
    if (req.method === 'CONNECT') {
      reject(req, res, { status: 405, code: 'method-not-allowed', message: 'CONNECT is not supported by a reverse proxy' });
      return;
    }
    const target = parseTarget(req.url);
    if (typeof target === 'string') {
      reject(req, res, { status: 400, code: 'bad-request', message: target });
      return;
    }
    // Request smuggling defence in depth: node's parser already refused CL+TE, duplicate CL, obs-fold and bad
    // chunking; a second Host is the one ambiguity it lets through.
    if (duplicateHost(req)) {
      reject(req, res, { status: 400, code: 'bad-request', message: 'more than one Host header' });
      return;
    }
    const clientIp = normalizeIp(req.socket.remoteAddress);
    const headers = upstreamRequestHeaders(req.rawHeaders, {
      clientIp,
      trusted: ctx.trust.has(clientIp),
      proto: 'http',
      ...(target.host === undefined ? {} : { host: target.host }),
      ...(ctx.via === undefined ? {} : { via: ctx.via }),
    });
    new Exchange(ctx, req, res, target.path, headers, clientIp).start();
  };

  return {
    kind: 'http',
    service: o.service,
    mesh: o.mesh,
    handleRequest,
    handleUpgrade: (req, socket, head) => handleUpgrade(ctx, req, socket, head),
    closeUpstream: (id) => ctx.clients.closeUpstream(id),
    stats: () => ({ ...ctx.stats, errors: { ...ctx.stats.errors } }),
    inFlight: () => ctx.stats.active + ctx.tunnels.size,
    startDraining: () => {
      ctx.draining = true;
    },
    destroyTunnels: () => {
      for (const s of ctx.tunnels) s.destroy();
      ctx.tunnels.clear();
    },
    close: (force = false) => (force ? ctx.clients.destroy() : ctx.clients.close()),
  };
}
