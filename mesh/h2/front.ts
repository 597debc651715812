// The HTTP/2 side of a published HTTP port: TLS connections that chose `h2` by ALPN, and plain ones that opened with
// the h2c preface (prior knowledge), are handed to one unbound http2 server; each stream is a StreamExchange.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2, { type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { ClientLimits } from '../proxy/client-state.ts';
import type { ProxyContext } from '../proxy/context.ts';
import { normalizeIp } from '../proxy/forwarded-headers.ts';
import { clientIdentity } from '../tls/identity.ts';
import type { Dialer } from './call.ts';
import { H1Dialer } from './h1-dialer.ts';
import { H2cSessions } from './h2c-sessions.ts';
import { opensH2Preface } from './preface.ts';
import { type ClientStream, h1Client, h2Client } from './client-stream.ts';
import { type ClientHead, h1Head, h2Head, routedRequest } from './request-headers.ts';
import { StreamExchange, type StreamSettings } from './stream-exchange.ts';

export class H2Front {
  readonly #ctx: ProxyContext;
  #server: Http2Server | undefined;
  /** HTTP/1.1 clients of a service whose replicas speak only h2c (node's parser: not the llhttp fast path). */
  #h1: http.Server | undefined;
  #h2c: H2cSessions | undefined;
  #h1Dialer: H1Dialer | undefined;
  readonly #sessions = new Map<ServerHttp2Session, StreamSettings>();
  #draining = false;

  constructor(ctx: ProxyContext) {
    this.#ctx = ctx;
  }

  /** Serves an HTTP/2 connection; `head` is what was already read of it (the preface an HTTP/1.1 parser saw). */
  serve(socket: Socket, head?: Buffer): void {
    if (head !== undefined && head.length > 0) socket.unshift(head);
    this.#server ??= this.#createServer();
    this.#server.emit('connection', socket);
  }

  /**
   * A connection to a service whose replicas speak only h2c: its first bytes say whether the client speaks HTTP/2
   * (the preface) or HTTP/1.1, which node's http server parses and StreamExchange forwards as h2c streams.
   */
  serveSniffing(socket: Socket, limits: ClientLimits): void {
    // Slowloris bound before the first byte (node's http server times only what follows it).
    socket.setTimeout(limits.headersTimeoutMs, () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.setTimeout(0);
      if (opensH2Preface(first)) {
        socket.pause();
        this.serve(socket, first);
        return;
      }
      socket.unshift(first);
      this.#h1 ??= this.#createH1Server(limits);
      this.#h1.emit('connection', socket);
      socket.resume();
    });
  }

  /** Open client sessions, for tests and the drain. */
  get sessions(): number {
    return this.#sessions.size;
  }

  /** The replica connections: h2c sessions for `protocol: h2c` targets, else the proxy's HTTP/1.1 keep-alive pools. */
  dialer(h2c: boolean): Dialer {
    const { timeouts } = this.#ctx.mesh;
    if (h2c) {
      this.#h2c ??= new H2cSessions(timeouts.connectMs);
      return this.#h2c;
    }
    this.#h1Dialer ??= new H1Dialer(this.#ctx.clients, timeouts);
    return this.#h1Dialer;
  }

  #createServer(): Http2Server {
    // Node's defaults, but the session idles out like an HTTP/1.1 keep-alive connection would not: a minute.
    const server = http2.createServer({ maxSessionMemory: 32 });
    server.on('session', (session: ServerHttp2Session) => {
      const socket = session.socket;
      this.#sessions.set(session, { ...this.#settings(socket), http2: true });
      session.once('close', () => this.#sessions.delete(session));
      session.on('error', () => {});
      session.setTimeout(60_000, () => session.close());
      if (this.#draining) session.close();
    });
    server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number) => {
      const settings = this.#sessions.get(stream.session as ServerHttp2Session);
      if (settings === undefined) {
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      const endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      this.#start(settings, h2Client(stream), h2Head(headers, endStream));
    });
    return server;
  }

  #createH1Server(limits: ClientLimits): http.Server {
    const server = http.createServer({
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      maxHeaderSize: limits.maxHeaderSize,
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const settings = { ...this.#settings(req.socket), http2: false };
      this.#start(settings, h1Client(req, res, () => this.#ctx.draining), h1Head(req));
    });
    server.on('clientError', (_err: Error, socket: Socket) => socket.destroy());
    return server;
  }

  #start(settings: StreamSettings, client: ClientStream, head: ClientHead): void {
    const { req, decision } = routedRequest(head, this.#ctx.policy, settings.info);
    new StreamExchange(settings, client, req, head.path, decision).start();
  }

  /** What the streams of one client connection share: where they go, and who the client is. */
  #settings(socket: Socket): Omit<StreamSettings, 'http2'> {
    const ctx = this.#ctx;
    const clientIp = normalizeIp(socket.remoteAddress);
    const id = clientIdentity(socket);
    const info = { clientIp, trusted: ctx.trust.has(clientIp), proto: id.proto, xfcc: id.xfcc, via: ctx.via };
    return { ctx, dialer: (h2c) => this.dialer(h2c), info, clientCert: id.subject };
  }

  /** The listener drains: every session gets GOAWAY, running streams finish, new ones go to a new connection. */
  drain(): void {
    this.#draining = true;
    for (const s of this.#sessions.keys()) s.close();
    this.#h1?.closeIdleConnections();
  }

  /** A called-off drain: sessions from now on are kept. Those already told to go away (GOAWAY) are not recalled. */
  undrain(): void {
    this.#draining = false;
  }

  destroy(): void {
    for (const s of this.#sessions.keys()) s.destroy();
    this.#h1?.closeAllConnections();
  }

  closeUpstream(id: string): void {
    // HTTP/1.1 replicas' pools are the proxy's own (UpstreamClients), closed by the proxy.
    this.#h2c?.closeUpstream(id);
  }

  close(force: boolean): void {
    this.#h2c?.close(force);
  }
}
