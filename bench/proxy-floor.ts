// The node floor for bench/proxy.ts: the least an HTTP/1.1 keep-alive proxy written on node can do per request with
// the same primitives as cmesh's proxy (net sockets, node's llhttp consuming the socket handle, one write per
// direction), and nothing else: no balancer, health, timeouts, retries, header rewriting, body streaming or
// pipelining. It answers only what the bench sends (bodiless GETs with Content-Length responses). Its CPU per request
// next to nginx's, in the same run, is what node itself costs; cmesh's distance from it is what cmesh's features cost.

import net from 'node:net';
import {
  HTTPParser,
  METHODS,
  type Parser,
  PROCEED,
  STRICT,
  allocParser,
  consumableHandle,
  kOnBody,
  kOnExecute,
  kOnHeadersComplete,
  kOnMessageComplete,
  markConsumed,
} from '../mesh/proxy/llhttp.ts';

type Owned<T> = Parser & { owner: T };

class Upstream {
  readonly socket: net.Socket;
  readonly parser: Owned<Upstream>;
  client: Client | null = null;
  #out: (string | Buffer)[] = [];
  #bytes = 0;
  #done = false;

  constructor(readonly pool: Upstream[], host: string, port: number, first: string, client: Client) {
    this.client = client;
    this.socket = net.connect({ host, port, noDelay: true });
    const parser = allocParser() as Owned<Upstream>;
    parser.initialize(HTTPParser.RESPONSE, {}, 0, STRICT);
    parser.owner = this;
    parser[kOnHeadersComplete] = upstreamHead;
    parser[kOnBody] = upstreamBody;
    parser[kOnMessageComplete] = upstreamComplete;
    parser[kOnExecute] = upstreamRead;
    this.parser = parser;
    this.socket.once('connect', () => {
      const handle = consumableHandle(this.socket);
      if (handle === undefined) throw new Error('proxy-floor: socket handle cannot be consumed');
      markConsumed(handle);
      parser.consume(handle);
      this.socket.write(first, 'latin1');
    });
    this.socket.on('error', () => this.socket.destroy());
    // A replica closes idle keep-alive connections (node's default: after 5 s): such a one leaves the pool.
    this.socket.on('close', () => {
      const i = this.pool.indexOf(this);
      if (i >= 0) this.pool.splice(i, 1);
      this.client?.socket.destroy();
    });
  }

  send(head: string, client: Client): void {
    this.client = client;
    this.socket.write(head, 'latin1');
  }

  head(status: number, reason: string, headers: string[]): void {
    let h = `HTTP/1.1 ${status} ${reason}\r\n`;
    for (let i = 0; i < headers.length; i += 2) h += `${headers[i]}: ${headers[i + 1]}\r\n`;
    this.#out.push(`${h}\r\n`);
    this.#bytes += h.length + 2;
  }

  body(chunk: Buffer): void {
    this.#out.push(chunk);
    this.#bytes += chunk.length;
  }

  complete(): void {
    this.#done = true;
  }

  /** After each read: one write to the client of what it brought; a finished exchange frees both sides. */
  flush(): void {
    const client = this.client;
    if (client === null || this.#out.length === 0) return;
    const out = Buffer.allocUnsafe(this.#bytes);
    let offset = 0;
    for (const p of this.#out) offset += typeof p === 'string' ? out.write(p, offset, 'latin1') : p.copy(out, offset);
    client.socket.write(out);
    this.#out.length = 0;
    this.#bytes = 0;
    if (this.#done) {
      this.#done = false;
      this.client = null;
      this.pool.push(this);
    }
  }
}

class Client {
  readonly parser: Owned<Client>;

  constructor(
    readonly socket: net.Socket,
    readonly route: () => Route,
  ) {
    const parser = allocParser() as Owned<Client>;
    parser.initialize(HTTPParser.REQUEST, {}, 0, STRICT);
    parser.owner = this;
    parser[kOnHeadersComplete] = clientHead;
    this.parser = parser;
    const handle = consumableHandle(socket);
    if (handle === undefined) throw new Error('proxy-floor: socket handle cannot be consumed');
    markConsumed(handle);
    parser.consume(handle);
    socket.on('error', () => socket.destroy());
  }

  request(method: number, url: string, headers: string[]): void {
    let head = `${METHODS[method] ?? 'GET'} ${url} HTTP/1.1\r\n`;
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    head += '\r\n';
    const { pool, host, port } = this.route();
    const up = pool.pop();
    if (up === undefined) new Upstream(pool, host, port, head, this);
    else up.send(head, this);
  }
}

function clientHead(this: Owned<Client>, _maj: number, _min: number, headers: string[], method: number, url: string): number {
  this.owner.request(method, url, headers);
  return PROCEED;
}

function upstreamHead(this: Owned<Upstream>, _maj: number, _min: number, headers: string[], _m: unknown, _u: unknown, status: number, reason: string): number {
  this.owner.head(status, reason, headers);
  return PROCEED;
}

function upstreamBody(this: Owned<Upstream>, chunk: Buffer): void {
  this.owner.body(chunk);
}

function upstreamComplete(this: Owned<Upstream>): void {
  this.owner.complete();
}

function upstreamRead(this: Owned<Upstream>): void {
  this.owner.flush();
}

interface Route {
  pool: Upstream[];
  host: string;
  port: number;
}

/**
 * Listens on 127.0.0.1:port and round-robins requests over the replicas: each `host:port` (a replica's own address, as
 * the daemon reaches it), or a bare loopback port.
 */
export async function serveFloor(port: number, upstreams: string[]): Promise<void> {
  const pools = upstreams.map((u): Route => {
    const at = u.lastIndexOf(':');
    return at < 0 ? { pool: [], host: '127.0.0.1', port: Number(u) } : { pool: [], host: u.slice(0, at), port: Number(u.slice(at + 1)) };
  });
  let next = 0;
  const route = (): Route => pools[next++ % pools.length]!;
  const server = net.createServer({ noDelay: true }, (socket) => new Client(socket, route));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
}
