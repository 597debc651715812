// A service's published port: binds a net.Server for an HTTP or TCP proxy, and drains it within a bound on close.

import cluster from 'node:cluster';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { bindError } from '../bind-error.ts';
import type { TlsServing } from '../tls/serving.ts';
import type { ClientLimits } from './client-connection.ts';
import type { HttpProxy } from './http-proxy.ts';
import type { TcpProxy } from './tcp-proxy.ts';

export interface ProxyListenerOptions {
  proxy: HttpProxy | TcpProxy;
  /** How long close() lets in-flight requests and tunnels finish before destroying them (default 5 s). */
  drainTimeoutMs?: number;
  /** Slowloris bound: the whole request head must arrive within this (default 10 s). */
  headersTimeoutMs?: number;
  /** Bound on receiving a whole request, body included (default 10 min: a 1 GiB upload at ~2 MB/s). */
  requestTimeoutMs?: number;
  /** Largest request head accepted, in bytes (default 16 KiB, node:http's default); larger gets 431. */
  maxHeaderSize?: number;
  /** Idle keep-alive client connections are closed after this (default 5 s, like node). */
  keepAliveTimeoutMs?: number;
  /** `x-cmesh.tls`: HTTP is served over TLS (mesh/tls/serving.ts); the proxy gets each socket after its handshake. */
  tls?: TlsServing;
}

export interface BoundAddress {
  host: string;
  port: number;
}

export class ProxyListener {
  readonly proxy: HttpProxy | TcpProxy;
  readonly server: net.Server;
  readonly #drainTimeoutMs: number;
  #address: BoundAddress | undefined;
  #closing: Promise<void> | undefined;
  /** Every accepted socket, upgraded and half-closed ones included, so close() can end them all after the drain. */
  readonly #sockets = new Set<net.Socket>();

  constructor(o: ProxyListenerOptions) {
    this.proxy = o.proxy;
    this.#drainTimeoutMs = o.drainTimeoutMs ?? 5000;
    if (o.proxy.kind === 'tcp') {
      this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, o.proxy.handleConnection);
      this.#trackSockets();
      return;
    }
    const proxy = o.proxy;
    // One limits object shared by every connection of this listener.
    const limits: ClientLimits = {
      headersTimeoutMs: o.headersTimeoutMs ?? 10_000,
      requestTimeoutMs: o.requestTimeoutMs ?? 600_000,
      maxHeaderSize: o.maxHeaderSize ?? 16 * 1024,
      keepAliveTimeoutMs: o.keepAliveTimeoutMs ?? 5000,
    };
    // allowHalfOpen: the connection decides what a client's FIN means (see ClientConnection.ended).
    const serve = (socket: net.Socket): void => proxy.handleConnection(socket, limits);
    const options = { allowHalfOpen: true, noDelay: true };
    // ALPN `h2` goes to the HTTP/2 front (mesh/h2); a plain h2c client is recognised by its preface (client-connection.ts).
    const serveTls = (socket: net.Socket): void => ((socket as TLSSocket).alpnProtocol === 'h2' ? proxy.serveH2(socket) : serve(socket));
    this.server = o.tls === undefined ? net.createServer(options, serve) : o.tls.createServer(options, serveTls);
    this.#trackSockets();
  }

  #trackSockets(): void {
    this.server.on('connection', (socket: net.Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  get address(): BoundAddress | undefined {
    return this.#address;
  }

  /** Binds host:port (port 0 = any free port). EADDRINUSE / EACCES become CMESH_E_PORT_TAKEN naming the address. */
  listen(where: BoundAddress): Promise<BoundAddress> {
    const service = this.proxy.service;
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => reject(bindError(service, where, err, 'tcp'));
      this.server.once('error', onError);
      // In a cluster worker (the east-west gateway, mesh/gateway/supervisor.ts) the socket is the primary's, shared:
      // a worker swap never closes it. Anywhere else (the daemon) the listener owns its socket.
      this.server.listen({ host: where.host, port: where.port, exclusive: !cluster.isWorker }, () => {
        this.server.off('error', onError);
        const a = this.server.address() as net.AddressInfo;
        this.#address = { host: a.address, port: a.port };
        resolve(this.#address);
      });
    });
  }

  /** Stops accepting, lets in-flight work finish for up to drainTimeoutMs, then destroys what is left. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const deadline = performance.now() + this.#drainTimeoutMs;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const proxy = this.proxy;
    if (proxy.kind === 'http') {
      proxy.startDraining();
      while (proxy.inFlight() > 0 && performance.now() < deadline) {
        proxy.closeIdleConnections();
        await sleep(20);
      }
      const forced = proxy.inFlight() > 0;
      proxy.destroyConnections();
      await proxy.close(forced);
    } else {
      while (proxy.sockets.size > 0 && performance.now() < deadline) await sleep(20);
      for (const s of proxy.sockets) s.destroy();
      await proxy.close();
    }
    // Whatever is left (a refused upgrade still half-open, a lingering 400) goes now, so close() is bounded.
    for (const s of this.#sockets) s.destroy();
    if (this.#address !== undefined) await closed;
  }
}
