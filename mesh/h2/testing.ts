// Test helpers (not a test file): h2c echo replicas on loopback and a one-session HTTP/2 client for proxy tests.

import http2, { type ClientHttp2Session, type IncomingHttpHeaders, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Upstream } from '../upstream-pool.ts';

export interface H2cReplica {
  upstream: Upstream;
  /** Calls served. */
  calls: number;
  /** Streams the test told to reset before answering (the next `resetNext` ones). */
  resetNext: number;
  close(): Promise<void>;
  /** Graceful: GOAWAY to every session, streams running finish. */
  goaway(): void;
}

/** A gRPC-style echo: answers `x-replica`, echoes the body, and ends with `grpc-status: 0` trailers. */
export async function startH2cReplica(id: string): Promise<H2cReplica> {
  const sessions = new Set<ServerHttp2Session>();
  const server = http2.createServer();
  const r: H2cReplica = {
    upstream: { id, host: '127.0.0.1', port: 0 },
    calls: 0,
    resetNext: 0,
    close: async () => {
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    goaway: () => {
      for (const s of sessions) s.close();
    },
  };
  server.on('session', (s: ServerHttp2Session) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    if (r.resetNext > 0) {
      r.resetNext--;
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      r.calls++;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'x-replica': id, 'x-te': String(headers.te ?? '') }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'ok' }));
      stream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.upstream.port = (server.address() as AddressInfo).port;
  return r;
}

export interface H2Answer {
  status: number;
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders;
  body: string;
}

/** One call on an open session: resolves with the response, its trailers and its body. */
export function call(session: ClientHttp2Session, path: string, body?: string, headers: Record<string, string> = {}): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const s = session.request({ ':method': body === undefined ? 'GET' : 'POST', ':path': path, ...headers }, { endStream: body === undefined });
    let head: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    s.on('response', (h) => {
      head = h;
    });
    s.on('trailers', (t) => {
      trailers = t;
    });
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve({ status: Number(head[':status']), headers: head, trailers, body: Buffer.concat(chunks).toString() }));
    s.on('error', reject);
    if (body !== undefined) s.end(body);
  });
}
