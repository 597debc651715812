// The node floor's per-request head handling alone, in instructions: the counterpart of
// bench/proxy-exchange-instructions.ts for bench/proxy-floor.ts, so "cmesh's feature layer − the floor's" is a number.
// N keep-alive GETs through what the floor's `Client.request`, `Upstream.head`, `Upstream.body` and `Upstream.flush`
// do (copied here line for line: the floor's classes open real sockets in their constructors), with the same stubs
// (a socket write that encodes strings to latin1 as a socket's write does, buffers only counted), the same request
// and response header fields, the same 21-byte body, and head and body in one replica read.
// Usage (under callgrind; the difference of two N over their difference is the per-request cost, start-up cancels):
//   valgrind --tool=callgrind node --max-semi-space-size=1 --import tsx bench/proxy-floor-exchange-instructions.ts N

import { METHODS } from '../mesh/proxy/llhttp.ts';
import { benchArgs } from './args.ts';

const { positionals } = benchArgs('usage: node --import tsx bench/proxy-floor-exchange-instructions.ts N', {}, { positionals: 1 });
const n = Number(positionals[0]);

let written = 0;
// As in bench/proxy-exchange-instructions.ts: node's own latin1 encoder, what a socket's string write does.
const wire = Buffer.allocUnsafe(64 * 1024) as Buffer & { latin1Write(s: string, offset: number): number };
const write = (d: string | Buffer): boolean => {
  written += typeof d === 'string' ? wire.latin1Write(d, 0) : d.length;
  return true;
};
const clientSocket = { write };
const upstreamSocket = { write };

/** bench/proxy-floor.ts's Upstream, its sockets stubbed: head, body and flush as the floor has them. */
class Upstream {
  client: Client | null = null;
  #out: (string | Buffer)[] = [];
  #bytes = 0;
  #done = false;

  constructor(readonly pool: Upstream[]) {}

  send(head: string, client: Client): void {
    this.client = client;
    current = this;
    upstreamSocket.write(head);
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

/** bench/proxy-floor.ts's Client.request: the upstream head as one string, sent on a pooled connection. */
class Client {
  readonly socket = clientSocket;

  constructor(readonly route: () => { pool: Upstream[] }) {}

  request(method: number, url: string, headers: string[]): void {
    let head = `${METHODS[method] ?? 'GET'} ${url} HTTP/1.1\r\n`;
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    head += '\r\n';
    const { pool } = this.route();
    const up = pool.pop() ?? new Upstream(pool);
    up.send(head, this);
  }
}

let current: Upstream | null = null;
const route = { pool: [] as Upstream[] };
const client = new Client(() => route);
const GET = METHODS.indexOf('GET');
const body = Buffer.from('hello from replica 1\n');
for (let i = 0; i < n; i++) {
  // What llhttp hands over: fresh arrays of fresh strings for each head (as bench/proxy-exchange-instructions.ts).
  const reqHeaders = ['Host', `localhost:${8080 + (i & 1)}`, 'User-Agent', 'bench', 'Accept', '*/*'];
  const resHeaders = ['Content-Type', 'text/plain', 'Content-Length', String(body.length), 'Date', 'Fri, 04 Dec 2026 16:30:00 GMT'];
  client.request(GET, '/', reqHeaders);
  // The replica's read: on the connection the request went out on (out of the pool until its response completes).
  const a = current!;
  a.head(200, 'OK', resHeaders);
  a.body(body);
  a.complete();
  a.flush();
}
console.log(`${n} requests, ${written} bytes written`);
