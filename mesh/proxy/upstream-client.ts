// Keep-alive connection pools, one per replica, created on first use and closed when the replica leaves the service.

import type { Upstream } from '../upstream-pool.ts';
import { type ReadPath, readPaths } from './llhttp.ts';
import { addSweeper, clock, removeSweeper } from './ticker.ts';
import { type ConnectionPool, type UpstreamAttempt, UpstreamConnection } from './upstream-connection.ts';

export interface UpstreamClientOptions {
  connectTimeoutMs: number;
  /** Response idle timeout between body chunks (`mesh.timeouts.idleMs`). */
  bodyTimeoutMs: number;
  /** Keep-alive connections per replica; 64 covers one proxy's concurrency without queueing. */
  connections?: number;
  /** How replica sockets are parsed (default: what the load-time parser check allows). */
  readPath?: ReadPath;
}

/** Idle connections are closed after this unless the replica's Keep-Alive hint says less (undici's default too). */
const IDLE_MS = 4000;
/** A replica's hinted keep-alive is not used to its end: closing first avoids reusing a socket it is closing. */
const HINT_MARGIN_MS = 1000;

/** One replica's connections: idle ones (most recently used last), busy ones, and attempts waiting for one. */
export class ReplicaPool implements ConnectionPool {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly options: UpstreamClientOptions;
  readonly readPath: ReadPath;
  readonly #max: number;
  readonly #idle: UpstreamConnection[] = [];
  readonly #all: UpstreamConnection[] = [];
  readonly #waiting: UpstreamAttempt[] = [];
  closing = false;
  #emptied: (() => void) | undefined;
  #closed: Promise<void> | undefined;

  constructor(upstream: Upstream, options: UpstreamClientOptions) {
    this.id = upstream.id;
    this.host = upstream.host;
    this.port = upstream.port;
    this.options = options;
    this.readPath = options.readPath ?? readPaths.choose();
    this.#max = options.connections ?? 64;
  }

  get size(): number {
    return this.#all.length;
  }

  /** Gives the attempt a connection now (idle or new), or queues it until one is released. */
  acquire(a: UpstreamAttempt): void {
    let idle = this.#idle.pop();
    // One that saw its replica's FIN is on its way out (it leaves the lists when it has closed).
    while (idle !== undefined && (idle.broken || idle.socket.destroyed)) idle = this.#idle.pop();
    if (idle !== undefined) {
      idle.attempt = a;
      a.attach(idle);
      return;
    }
    if (this.#all.length < this.#max) {
      this.#attachNew(a);
      return;
    }
    this.#waiting.push(a);
  }

  #attachNew(a: UpstreamAttempt): void {
    // A breaker's max_connections counts every open connection to its service, idle ones too (as Envoy's does).
    const gate = a.connectionGate;
    if (gate !== undefined && !gate.openConnection()) {
      a.connectionRefused?.();
      return;
    }
    const c = new UpstreamConnection(this);
    c.gate = gate;
    this.#all.push(c);
    c.attempt = a;
    a.attach(c);
  }

  /** The attempt on `c` ended with the connection in a clean state: reuse it, or close it if it cannot be. */
  release(c: UpstreamConnection): void {
    c.attempt = null;
    if (c.broken || this.closing) {
      c.destroy();
      return;
    }
    c.resume();
    const next = this.#waiting.shift();
    if (next !== undefined) {
      c.attempt = next;
      next.attach(c);
      return;
    }
    c.idleSince = clock.now;
    this.#idle.push(c);
  }

  /** An attempt that no longer waits (client gone, deadline passed). */
  cancelWaiting(a: UpstreamAttempt): void {
    const i = this.#waiting.indexOf(a);
    if (i >= 0) this.#waiting.splice(i, 1);
  }

  /** A connection closed (by either side): forget it, and open a replacement for a waiting attempt. */
  removed(c: UpstreamConnection): void {
    let i = this.#all.indexOf(c);
    if (i >= 0) {
      this.#all.splice(i, 1);
      c.gate?.connectionClosed();
      c.gate = undefined;
    }
    i = this.#idle.indexOf(c);
    if (i >= 0) this.#idle.splice(i, 1);
    if (this.closing) {
      if (this.#all.length === 0) this.#emptied?.();
      return;
    }
    const next = this.#waiting.shift();
    if (next !== undefined) this.#attachNew(next);
  }

  sweep(now: number): void {
    const idle = this.#idle;
    // Oldest first: the list is used as a stack, so expired connections sit at its start.
    while (idle.length > 0) {
      const c = idle[0]!;
      const ttl = c.keepAliveMs < 0 ? IDLE_MS : Math.max(c.keepAliveMs - HINT_MARGIN_MS, 500);
      if (now - c.idleSince < Math.min(ttl, IDLE_MS * 150)) break;
      idle.shift();
      c.destroy();
    }
    // By index over the length at the start: a timeout can fail over and add a connection meanwhile.
    const all = this.#all;
    for (let i = 0, n = all.length; i < n && i < all.length; i++) all[i]!.attempt?.checkTimeout(now);
    if (this.#waiting.length > 0) for (const a of [...this.#waiting]) a.checkTimeout(now);
  }

  /** No new requests; idle connections go now, busy ones when their request ends (all of them when `force`). */
  close(force: boolean): Promise<void> {
    this.closing = true;
    for (const a of this.#waiting.splice(0)) a.poolClosed();
    for (const c of [...this.#idle]) c.destroy();
    if (force) for (const c of [...this.#all]) c.destroy();
    this.#closed ??=
      this.#all.length === 0
        ? Promise.resolve()
        : new Promise((resolve) => {
            this.#emptied = resolve;
          });
    return this.#closed;
  }
}

export class UpstreamClients {
  readonly #pools = new Map<string, ReplicaPool>();
  /** Pools of replicas that moved or left, still finishing their requests (swept until empty). */
  readonly #draining = new Set<ReplicaPool>();
  readonly #options: UpstreamClientOptions;
  readonly #sweeper = { sweep: (now: number) => this.#sweep(now) };
  #swept = false;
  #closed = false;

  constructor(options: UpstreamClientOptions) {
    this.#options = options;
  }

  /** The pool for this replica, or undefined once the proxy is closed; a replica id on a new port gets a fresh pool. */
  get(upstream: Upstream): ReplicaPool | undefined {
    const pool = this.#pools.get(upstream.id);
    if (pool !== undefined) {
      if (pool.port === upstream.port && pool.host === upstream.host) return pool;
      void this.closeUpstream(upstream.id);
    }
    if (this.#closed) return undefined;
    const fresh = new ReplicaPool(upstream, this.#options);
    this.#pools.set(upstream.id, fresh);
    if (!this.#swept) {
      this.#swept = true;
      addSweeper(this.#sweeper);
    }
    return fresh;
  }

  #sweep(now: number): void {
    for (const p of this.#pools.values()) p.sweep(now);
    for (const p of this.#draining) p.sweep(now);
  }

  #retire(pool: ReplicaPool, force: boolean): Promise<void> {
    this.#draining.add(pool);
    return pool.close(force).then(() => {
      this.#draining.delete(pool);
    });
  }

  /** Closes a departed replica's pool: requests already running finish, idle connections go now. */
  async closeUpstream(id: string): Promise<void> {
    const pool = this.#pools.get(id);
    if (pool === undefined) return;
    this.#pools.delete(id);
    await this.#retire(pool, false);
  }

  /** Drops a replica's connections at once (it is known dead: nothing running there can finish). */
  async destroyUpstream(id: string): Promise<void> {
    const pool = this.#pools.get(id);
    if (pool === undefined) return;
    this.#pools.delete(id);
    await this.#retire(pool, true);
  }

  ids(): string[] {
    return [...this.#pools.keys()];
  }

  /** Closes every pool (running requests finish first, or are cut when `force`). */
  async close(force = false): Promise<void> {
    this.#closed = true;
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => this.#retire(p, force)));
    if (force) await Promise.all([...this.#draining].map((p) => p.close(true)));
    if (this.#swept) {
      this.#swept = false;
      removeSweeper(this.#sweeper);
    }
  }

  /** Forces every connection shut (after a bounded drain). */
  destroy(): Promise<void> {
    return this.close(true);
  }
}
