// TCP mode (`x-cmesh.protocol: tcp`): each client connection is balanced to one replica and piped raw both ways.

import type { Socket } from 'node:net';
import type { MeshSpec } from '../../daemon/api/project.ts';
import type { UpstreamPool } from '../upstream-pool.ts';
import { normalizeIp } from './forwarded-headers.ts';
import { compileHashKey } from './hash-key.ts';
import { connectUpstream } from './upstream-connect.ts';
import { tunnel } from './tunnel.ts';

export interface TcpProxyOptions {
  service: string;
  pool: UpstreamPool;
  mesh: MeshSpec;
  /** One line per finished connection (only when `mesh.accessLog`). */
  onAccessLog?: (line: string) => void;
}

export interface TcpProxyStats {
  connections: number;
  active: number;
  /** Connections refused because no replica could be reached. */
  failed: number;
}

export interface TcpProxy {
  readonly kind: 'tcp';
  readonly service: string;
  readonly mesh: MeshSpec;
  /** Give it sockets from a `net.Server({ allowHalfOpen: true, pauseOnConnect: true })`. */
  handleConnection(socket: Socket): void;
  stats(): TcpProxyStats;
  /** Open client sockets, for the listener's bounded drain on close. */
  readonly sockets: ReadonlySet<Socket>;
  close(): Promise<void>;
}

export function createTcpProxy(o: TcpProxyOptions): TcpProxy {
  const stats: TcpProxyStats = { connections: 0, active: 0, failed: 0 };
  const sockets = new Set<Socket>();
  // Only `ip` makes sense without HTTP; header/cookie keys fall back to the client address.
  const hashIp = compileHashKey(o.mesh.hashKey) !== undefined;
  const log = o.mesh.accessLog ? o.onAccessLog : undefined;

  const handleConnection = (client: Socket): void => {
    stats.connections++;
    stats.active++;
    sockets.add(client);
    const t0 = Date.now();
    const clientIp = normalizeIp(client.remoteAddress);
    let upstreamId: string | undefined;
    client.on('error', () => client.destroy());
    client.once('close', () => {
      sockets.delete(client);
      stats.active--;
      log?.(JSON.stringify({ time: t0, service: o.service, clientIp, upstream: upstreamId, durationMs: Date.now() - t0, bytesIn: client.bytesRead, bytesOut: client.bytesWritten }));
    });
    connectUpstream(
      {
        service: o.service,
        pool: o.pool,
        connectTimeoutMs: o.mesh.timeouts.connectMs,
        pick: hashIp ? { hashKey: clientIp } : {},
        tried: new Set(),
        maxAttempts: Math.max(2, Math.min(8, o.pool.snapshot().total)),
        cancelled: () => client.destroyed,
      },
      (err, c) => {
        if (err !== undefined || c === undefined) {
          // Nothing to say in-band on a raw stream: a reset tells the client it never got through.
          stats.failed++;
          client.resetAndDestroy();
          return;
        }
        upstreamId = c.upstream.id;
        if (client.destroyed) {
          c.socket.destroy();
          o.pool.onResult(c.upstream, c.connectMs, 'ok');
          return;
        }
        tunnel(client, c.socket, o.mesh.timeouts.idleMs, (end) => {
          // A reset from the replica's side counts against it; the client hanging up does not.
          o.pool.onResult(c.upstream, c.connectMs, end.errorFrom === 'upstream' ? 'reset' : 'ok');
        });
      },
    );
  };

  return {
    kind: 'tcp',
    service: o.service,
    mesh: o.mesh,
    handleConnection,
    stats: () => ({ ...stats }),
    sockets,
    close: async () => undefined,
  };
}
