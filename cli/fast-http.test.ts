// cli/fast-http.ts, the fast bundle's request to the daemon, against real servers on unix sockets: node:http's own
// framings (content-length, chunked, written in pieces) read as node:http reads them, raw answers split at every byte
// (close-delimited, chunk sizes with extensions, trailers), net errors with node's codes, an abort, and anything it
// cannot read (a malformed head or chunk, an upgrade) coded as a fast-path miss, never a wrong body.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type FastResponse, request } from './fast-http.ts';
import { FAST_PATH_MISS } from './fast-path.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-fast-http-'));
});
after(() => rm(dir, { recursive: true, force: true, maxRetries: 3 }));

let n = 0;
async function listen(server: Server): Promise<string> {
  const path = join(dir, `s${n++}.sock`);
  server.listen(path);
  await once(server, 'listening');
  after(() => server.close());
  return path;
}

/** A raw server answering every request with `answer`, written in pieces of `step` bytes. */
function raw(answer: string, step = Number.POSITIVE_INFINITY): Promise<string> {
  return listen(
    createServer((s: Socket) => {
      s.once('data', async () => {
        const bytes = Buffer.from(answer, 'latin1');
        for (let i = 0; i < bytes.length; i += step) {
          s.write(bytes.subarray(i, i + step));
          if (step < bytes.length) await new Promise((r) => setImmediate(r));
        }
        s.end();
      });
      s.on('error', () => undefined);
    }),
  );
}

async function send(socketPath: string, method = 'GET', body?: string, signal?: AbortSignal): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const req = request({ socketPath, method, path: '/v1/x?y=1', headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}, ...(signal ? { signal } : {}) });
  const res = await new Promise<FastResponse>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
    req.end(body);
  });
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
}

/** The same request through node:http, the full CLI's client. */
async function viaNode(socketPath: string, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest({ socketPath, method, path: '/v1/x?y=1', headers: body ? { 'content-length': Buffer.byteLength(body) } : {} }, resolve);
    req.once('error', reject);
    req.end(body);
  });
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') };
}

test('node:http answers (content-length, chunked in pieces, an error status) read as node:http reads them', async () => {
  const big = 'é'.repeat(100_000);
  const path = await listen(
    createHttpServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      if (req.url !== '/v1/x?y=1') res.writeHead(500).end('wrong url');
      else if (req.method === 'POST') {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        for (const line of [`{"got":${JSON.stringify(body)}}\n`, `${JSON.stringify({ big })}\n`, '{"kind":"result"}\n']) {
          res.write(line);
          await new Promise((r) => setTimeout(r, 5));
        }
        res.end();
      } else if (req.method === 'DELETE') res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"CMESH_E_X"}}');
      else {
        const json = JSON.stringify({ big });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) }).end(json);
      }
    }),
  );
  for (const [method, body] of [['GET', undefined], ['POST', '{"services":["wé"]}'], ['DELETE', undefined]] as const) {
    const fast = await send(path, method, body);
    assert.deepEqual({ status: fast.status, body: fast.body }, await viaNode(path, method, body), method);
  }
  assert.equal((await send(path, 'POST', '{}')).headers['transfer-encoding'], 'chunked');
  assert.equal((await send(path)).headers['content-length'], String(Buffer.byteLength(JSON.stringify({ big }))));
});

test('raw framings split at every byte: close-delimited, chunk extensions and trailers', async () => {
  const cases: Array<[string, string]> = [
    ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello', 'hello'],
    ['HTTP/1.0 200 OK\r\nX-A: 1\r\n\r\nuntil close', 'until close'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n, chunked!\r\n0\r\nX-Trailer: t\r\n\r\n', 'hello, chunked!'],
    ['HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n', ''],
  ];
  for (const [answer, body] of cases) {
    for (const step of [1, 7, Number.POSITIVE_INFINITY]) assert.equal((await send(await raw(answer, step))).body, body, `${JSON.stringify(answer)} by ${step}`);
  }
});

test('net errors carry node\'s codes (the daemon client tells "no daemon" by them); a cut body is ECONNRESET', async () => {
  await assert.rejects(send(join(dir, 'missing.sock')), { code: 'ENOENT' });
  await assert.rejects(send(await raw('')), { code: 'ECONNRESET' });
  await assert.rejects(send(await raw('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort')), { code: 'ECONNRESET' });
  await assert.rejects(send(await raw('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel')), { code: 'ECONNRESET' });
});

test('what it cannot read is a fast-path miss, never a body; an upgrade is not its to make; a reader stopping early closes the connection; an abort is an AbortError', async () => {
  for (const answer of [
    'SSH-2.0-OpenSSH\r\n\r\n',
    'HTTP/1.1 100 Continue\r\n\r\n',
    'HTTP/1.1 200 OK\r\nbroken header line\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\ntoo long',
    'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
  ]) {
    await assert.rejects(send(await raw(answer)), { code: FAST_PATH_MISS }, JSON.stringify(answer));
  }
  assert.throws(() => request({ socketPath: join(dir, 'x.sock'), headers: { connection: 'Upgrade', upgrade: 'cmesh-io' } }), { code: FAST_PATH_MISS });
  // A reader that stops early closes the connection: the server sees it end while its answer is still open.
  let closed: () => void = () => undefined;
  const sawClose = new Promise<void>((r) => (closed = r));
  const endless = await listen(
    createServer((s) => {
      s.on('error', () => undefined);
      s.on('close', () => closed());
      s.once('data', () => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\none\r\n'));
    }),
  );
  const early = request({ socketPath: endless, path: '/' });
  const res = await new Promise<FastResponse>((resolve) => {
    early.once('response', resolve);
    early.end();
  });
  for await (const chunk of res) {
    assert.equal(String(chunk), 'one');
    break; // destroys the response
  }
  await sawClose;
  const slow = await listen(createServer((s) => s.on('error', () => undefined)));
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 20);
  await assert.rejects(send(slow, 'GET', undefined, ac.signal), { name: 'AbortError' });
  await assert.rejects(send(slow, 'GET', undefined, AbortSignal.abort()), { name: 'AbortError' });
});
