// One undici connection pool per replica, created on first use and closed when the replica leaves the service.

import { Pool } from 'undici';
import type { Upstream } from '../upstream-pool.ts';

export interface UpstreamClientOptions {
  connectTimeoutMs: number;
  /** Response idle timeout between body chunks (`mesh.timeouts.idleMs`). */
  bodyTimeoutMs: number;
  /** Keep-alive connections per replica; 64 covers one proxy's concurrency without queueing. */
  connections?: number;
  maxHeaderSize?: number;
}

interface Entry {
  host: string;
  port: number;
  pool: Pool;
}

export class UpstreamClients {
  readonly #pools = new Map<string, Entry>();
  readonly #options: UpstreamClientOptions;
  #closed = false;

  constructor(options: UpstreamClientOptions) {
    this.#options = options;
  }

  /** The pool for this replica; a replica id that moved to another port gets a fresh pool (the old one drains). */
  get(upstream: Upstream): Pool {
    const entry = this.#pools.get(upstream.id);
    if (entry !== undefined) {
      if (entry.port === upstream.port && entry.host === upstream.host && !entry.pool.closed) return entry.pool;
      void this.closeUpstream(upstream.id);
    }
    if (this.#closed) throw Object.assign(new Error('proxy is closed'), { code: 'UND_ERR_CLOSED' });
    const o = this.#options;
    const pool = new Pool(originOf(upstream), {
      connections: o.connections ?? 64,
      // No pipelining: a dead replica then costs at most one in-flight request per connection, each retryable.
      pipelining: 1,
      connect: { timeout: o.connectTimeoutMs },
      // Request deadlines are per attempt (headersTimeout in dispatch); the pool default would cap them at 300 s.
      headersTimeout: 0,
      bodyTimeout: o.bodyTimeoutMs,
      maxHeaderSize: o.maxHeaderSize ?? 32 * 1024,
      strictContentLength: true,
    });
    this.#pools.set(upstream.id, { host: upstream.host, port: upstream.port, pool });
    return pool;
  }

  /** Closes a departed replica's pool: requests already running finish, idle connections go now. */
  async closeUpstream(id: string): Promise<void> {
    const entry = this.#pools.get(id);
    if (entry === undefined) return;
    this.#pools.delete(id);
    await entry.pool.close().catch(() => undefined);
  }

  /** Drops a replica's connections at once (it is known dead: nothing running there can finish). */
  async destroyUpstream(id: string): Promise<void> {
    const entry = this.#pools.get(id);
    if (entry === undefined) return;
    this.#pools.delete(id);
    await entry.pool.destroy().catch(() => undefined);
  }

  ids(): string[] {
    return [...this.#pools.keys()];
  }

  async close(): Promise<void> {
    this.#closed = true;
    const entries = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(entries.map((e) => e.pool.close().catch(() => undefined)));
  }

  /** Forces every connection shut (after a bounded drain). */
  async destroy(): Promise<void> {
    this.#closed = true;
    const entries = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(entries.map((e) => e.pool.destroy().catch(() => undefined)));
  }
}

function originOf(u: Upstream): string {
  return u.host.includes(':') ? `http://[${u.host}]:${u.port}` : `http://${u.host}:${u.port}`;
}
