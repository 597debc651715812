// A published UDP port: one bound socket, one session per client address (its own upstream socket connected to the
// replica the balancer chose), replies sent back from the bound socket. Sessions end when idle, when the cap evicts
// them, or move on their next datagram once their replica stops taking traffic.

import dgram from 'node:dgram';
import type { PickContext } from '../balancer/types.ts';
import type { AttemptOutcome, Upstream } from '../upstream-pool.ts';
import { bindError } from '../bind-error.ts';
import { SessionTable } from './session-table.ts';

/** What the forwarder needs from the service pool (ServicePool.forDatagrams gives it for one container port). */
export interface DatagramPool {
  readonly service: string;
  /** A replica for a new session; undefined when none takes traffic. */
  pick(ctx?: PickContext): Upstream | undefined;
  /** The replica's address while it still takes traffic (healthy, not draining, still in the pool), else undefined. */
  current(id: string): Upstream | undefined;
  /** A session's upstream failed (ICMP port unreachable), reported like a refused connect. */
  onResult(id: string, latencyMs: number, outcome: AttemptOutcome): void;
}

export interface UdpForwarderOptions {
  service: string;
  pool: DatagramPool;
  /** A session with no datagram either way for this long is closed (x-cmesh.timeouts.idle, default 60 s like Envoy). */
  idleMs: number;
  /** Most sessions at once; a new client beyond it evicts the least recently active one. Each costs one socket. */
  maxSessions?: number;
  now?: () => number;
}

/** Cumulative counters; `in` is client → replica, `out` is replica → client. */
export interface UdpForwarderStats {
  datagramsIn: number;
  datagramsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Client datagrams dropped because no replica could take them. */
  dropped: number;
  /** Sessions open now. */
  sessions: number;
  sessionsTotal: number;
  /** Sessions that moved to another replica because theirs left. */
  moved: number;
  evicted: number;
  expired: number;
}

interface Session {
  readonly key: string;
  lastActive: number;
  readonly address: string;
  readonly port: number;
  upstream: Upstream;
  socket: dgram.Socket;
  /** Datagrams that arrived before the upstream socket finished connecting. */
  pending: Buffer[] | undefined;
}

/** Sockets are file descriptors: the cap keeps one noisy port from exhausting the daemon's. */
export const DEFAULT_MAX_SESSIONS = 1024;
/** Datagrams held per session while its upstream socket connects; beyond that they are dropped, as UDP allows. */
const PENDING_LIMIT = 64;

const family = (host: string): 'udp4' | 'udp6' => (host.includes(':') ? 'udp6' : 'udp4');
const clientKey = (address: string, port: number): string => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

export class UdpForwarder {
  readonly service: string;
  readonly #o: UdpForwarderOptions;
  readonly #now: () => number;
  readonly #max: number;
  readonly #sessions = new SessionTable<Session>();
  readonly #stats: Omit<UdpForwarderStats, 'sessions'> = { datagramsIn: 0, datagramsOut: 0, bytesIn: 0, bytesOut: 0, dropped: 0, sessionsTotal: 0, moved: 0, evicted: 0, expired: 0 };
  #socket: dgram.Socket | undefined;
  #sweep: NodeJS.Timeout | undefined;
  #address: { host: string; port: number } | undefined;
  #closing: Promise<void> | undefined;

  constructor(o: UdpForwarderOptions) {
    this.service = o.service;
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.#max = Math.max(1, o.maxSessions ?? DEFAULT_MAX_SESSIONS);
  }

  get address(): { host: string; port: number } | undefined {
    return this.#address;
  }

  /** Binds host:port (0 = any free port). EADDRINUSE / EACCES become CMESH_E_PORT_TAKEN naming the address. */
  listen(where: { host: string; port: number }): Promise<{ host: string; port: number }> {
    const socket = dgram.createSocket({ type: family(where.host) });
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        socket.close();
        reject(bindError(this.service, where, err, 'udp'));
      };
      socket.once('error', onError);
      socket.bind({ address: where.host, port: where.port, exclusive: true }, () => {
        socket.off('error', onError);
        // A send error toward one client (EMSGSIZE, a vanished route) must not take the port down.
        socket.on('error', () => undefined);
        socket.on('message', (msg, rinfo) => this.#fromClient(msg, rinfo.address, rinfo.port));
        this.#socket = socket;
        const a = socket.address();
        this.#address = { host: a.address, port: a.port };
        // Expiry runs a few times per idle period: a session lives between idleMs and idleMs plus a quarter.
        this.#sweep = setInterval(() => this.#expire(), Math.max(20, Math.min(1000, this.#o.idleMs / 4)));
        this.#sweep.unref();
        resolve(this.#address);
      });
    });
  }

  stats(): UdpForwarderStats {
    return { ...this.#stats, sessions: this.#sessions.size };
  }

  /** The replica left the pool: its sessions end now (their sockets are freed; clients get a new pick next time). */
  closeUpstream(id: string): void {
    for (const s of [...this.#sessions.values()]) if (s.upstream.id === id) this.#end(s);
  }

  /** Stops receiving and closes every session socket. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      clearInterval(this.#sweep);
      for (const s of this.#sessions.clear()) closeQuietly(s.socket);
      if (!this.#socket) return resolve();
      this.#socket.close(() => resolve());
    });
    return this.#closing;
  }

  #fromClient(msg: Buffer, address: string, port: number): void {
    if (this.#closing) return;
    this.#stats.datagramsIn++;
    this.#stats.bytesIn += msg.length;
    const now = this.#now();
    const key = clientKey(address, port);
    let s = this.#sessions.get(key);
    if (s) {
      const cur = this.#o.pool.current(s.upstream.id);
      if (cur === undefined || cur.host !== s.upstream.host || cur.port !== s.upstream.port) {
        // Its replica drained, was ejected or scaled away (or came back on a new address): move on this datagram.
        const next = cur ?? this.#o.pool.pick({ hashKey: address });
        this.#end(s);
        if (next === undefined) {
          this.#drop();
          return;
        }
        this.#stats.moved++;
        s = this.#open(key, address, port, next);
      }
    } else {
      const next = this.#o.pool.pick({ hashKey: address });
      if (next === undefined) {
        this.#drop();
        return;
      }
      if (this.#sessions.size >= this.#max) {
        const oldest = this.#sessions.oldest();
        if (oldest) {
          this.#end(oldest);
          this.#stats.evicted++;
        }
      }
      s = this.#open(key, address, port, next);
    }
    this.#sessions.touch(s, now);
    if (s.pending) {
      if (s.pending.length < PENDING_LIMIT) s.pending.push(msg);
      else this.#stats.dropped++;
      return;
    }
    s.socket.send(msg);
  }

  #open(key: string, address: string, port: number, upstream: Upstream): Session {
    const socket = dgram.createSocket(family(upstream.host));
    const s: Session = { key, lastActive: this.#now(), address, port, upstream, socket, pending: [] };
    this.#stats.sessionsTotal++;
    socket.on('message', (reply) => {
      if (this.#sessions.get(key) !== s || !this.#socket || this.#closing) return;
      this.#stats.datagramsOut++;
      this.#stats.bytesOut += reply.length;
      this.#sessions.touch(s, this.#now());
      this.#socket.send(reply, s.port, s.address);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // ECONNREFUSED on a connected UDP socket is the replica's ICMP "port unreachable": nothing listens there.
      if (err.code === 'ECONNREFUSED') this.#o.pool.onResult(s.upstream.id, 0, 'connect-error');
      this.#end(s);
    });
    socket.connect(upstream.port, upstream.host, () => {
      const queued = s.pending ?? [];
      s.pending = undefined;
      if (this.#sessions.get(key) !== s) return;
      for (const m of queued) socket.send(m);
    });
    return s;
  }

  /** Closes the session's socket and forgets it, unless a newer session already took its key. */
  #end(s: Session): void {
    if (this.#sessions.get(s.key) === s) this.#sessions.delete(s.key);
    closeQuietly(s.socket);
  }

  #expire(): void {
    for (const s of this.#sessions.expire(this.#now(), this.#o.idleMs)) {
      this.#stats.expired++;
      closeQuietly(s.socket);
    }
  }

  #drop(): void {
    // UDP has no way to say "unavailable": the datagram is dropped and counted, as a router would.
    this.#stats.dropped++;
  }
}

function closeQuietly(socket: dgram.Socket): void {
  try {
    socket.close();
  } catch {
    // Already closed (an error ended it first).
  }
}
