// Two HTTP services on one container port behind one gateway address: each client connection goes to the service its
// first request's Host names. Clients pool connections per host name, so a connection never carries two services.

import cluster from 'node:cluster';
import net from 'node:net';
import type { ProxyListener } from '../proxy/index.ts';
import { consumableHandle, markConsumed } from '../proxy/llhttp.ts';

/** The request head must name its Host within this many bytes (node:http's default header limit). */
const MAX_HEAD = 16 * 1024;
/** A client that sends no request head within this is dropped (slowloris). */
const HEAD_TIMEOUT_MS = 10_000;

/** `Host` of a request head (lowercase, without port), or undefined while the head is incomplete or has none. */
export function hostOf(head: string): string | undefined {
  const end = head.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const m = /\r\nhost:[ \t]*([^\r\n]*)/i.exec(head.slice(0, end + 2));
  if (!m) return '';
  const value = m[1]!.trim().toLowerCase();
  // [v6]:port, name:port, name
  if (value.startsWith('[')) return value.slice(0, value.indexOf(']') + 1);
  const colon = value.lastIndexOf(':');
  return colon >= 0 ? value.slice(0, colon) : value;
}

function misdirected(socket: net.Socket, port: number, names: string[]): void {
  const body = `cmesh gateway: port ${port} is shared by ${names.join(', ')}; the request's Host names none of them\n`;
  socket.end(`HTTP/1.1 421 Misdirected Request\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\nx-cmesh-error: misdirected\r\n\r\n${body}`);
}

export interface HostRoute {
  /** Host values (service name and compose aliases) that pick this listener. */
  names: string[];
  /** A listener that is never bound: it gets the connection through its server's `connection` event. */
  listener: ProxyListener;
}

/** A bound port whose connections are handed to the HTTP proxy of the service their Host names. */
export class HostDispatcher {
  readonly server: net.Server;
  readonly #byName = new Map<string, ProxyListener>();
  readonly #routes: HostRoute[];
  readonly #port: number;
  readonly #sockets = new Set<net.Socket>();

  constructor(port: number, routes: HostRoute[]) {
    this.#port = port;
    this.#routes = routes;
    for (const r of routes) for (const n of r.names) this.#byName.set(n.toLowerCase(), r.listener);
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (s) => this.#accept(s));
  }

  /** New Host names for the same listeners (a compose alias changed): taken in place, nothing re-bound or refused. */
  rename(names: ReadonlyMap<ProxyListener, string[]>): void {
    this.#byName.clear();
    for (const r of this.#routes) {
      r.names = names.get(r.listener) ?? r.names;
      for (const n of r.names) this.#byName.set(n.toLowerCase(), r.listener);
    }
  }

  listen(host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      // The supervisor's socket, shared by the old and the new worker during a swap (as ProxyListener.listen).
      this.server.listen({ host, port: this.#port, exclusive: !cluster.isWorker }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    await Promise.all(this.#routes.map((r) => r.listener.close()));
    await closed;
  }

  #accept(socket: net.Socket): void {
    this.#sockets.add(socket);
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => socket.destroy(), HEAD_TIMEOUT_MS);
    const done = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('end', onEnd);
      this.#sockets.delete(socket);
    };
    const onError = (): void => {
      done();
      socket.destroy();
    };
    // FIN before a whole head: no request can complete on this connection (a whole one goes on, half-closed, to the proxy).
    const onEnd = (): void => {
      done();
      socket.end();
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      const head = Buffer.concat(chunks);
      const host = hostOf(head.toString('latin1'));
      if (host === undefined && size < MAX_HEAD) return;
      done();
      socket.pause();
      const target = host === undefined ? undefined : this.#byName.get(host);
      if (!target) {
        misdirected(socket, this.#port, this.#routes.map((r) => r.names[0]!));
        return;
      }
      // Give the bytes back, then let the service's own proxy serve the connection from its first byte. Its parser
      // would read the socket's handle directly and never see bytes given back to the stream: mark the handle taken,
      // so the proxy reads through 'data' events (a little slower, only on shared ports).
      const handle = consumableHandle(socket);
      if (handle) markConsumed(handle);
      socket.unshift(head);
      target.server.emit('connection', socket);
      socket.resume();
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.resume();
  }
}
