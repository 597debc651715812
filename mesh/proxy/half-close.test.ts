// A client that shuts its write side after its request (`printf 'GET / …' | nc`, `socket.end()`): HTTP/1.1 lets it,
// and the proxy answers every complete request it sent, then closes (as HAProxy does by default). What was cut short
// by the FIN (a partial head, a partial body) never reaches a replica as a complete request.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { type TestUpstream, TestPool, describeEachReadPath, startProxy, startUpstream } from './testing.ts';

/** Writes `payload`, half-closes at once, and collects everything until the proxy closes (or `timeoutMs` passes). */
function halfClosed(port: number, payload: string, timeoutMs = 3000): Promise<{ raw: string; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.end(payload));
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ raw: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => done(true));
    socket.on('close', () => done(true));
  });
}

const statusLines = (raw: string): string[] => raw.match(/HTTP\/1\.1 \d{3} [^\r\n]*/g) ?? [];

describeEachReadPath('a client that half-closes after its request', { timeout: 30_000 }, () => {
  let up: TestUpstream;
  /** `<method> <url> <body>` of every request whose body reached the replica complete. */
  const complete: string[] = [];
  before(async () => {
    up = await startUpstream('web#1', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        complete.push(`${req.method} ${req.url} ${body}`.trim());
        // /slow answers later, so the client's FIN surely arrives while the request is in flight.
        const delay = req.url?.startsWith('/slow') ? 150 : 0;
        setTimeout(() => res.end(`${req.method} ${req.url} ${body}`.trim()), delay);
      });
    });
  });
  after(async () => {
    await up.close();
  });

  for (const path of ['/now', '/slow']) {
    test(`GET ${path}, then FIN: the response comes, then the proxy closes`, async () => {
      const p = await startProxy(new TestPool('web', [up.upstream]));
      try {
        const res = await halfClosed(p.port, `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`);
        assert.ok(res.closed, `the proxy closed the connection after answering: ${JSON.stringify(res.raw)}`);
        assert.deepEqual(statusLines(res.raw), ['HTTP/1.1 200 OK'], res.raw);
        assert.ok(res.raw.endsWith(`GET ${path}`), res.raw);
      } finally {
        await p.close();
      }
    });
  }

  test('pipelined requests and a complete body, then FIN: every one answered in order, then closed', async () => {
    const p = await startProxy(new TestPool('web', [up.upstream]));
    try {
      const res = await halfClosed(
        p.port,
        'GET /slow/1 HTTP/1.1\r\nHost: a\r\n\r\n' +
          'POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello' +
          'GET /slow/3 HTTP/1.1\r\nHost: a\r\n\r\n',
      );
      assert.ok(res.closed, res.raw);
      assert.deepEqual(statusLines(res.raw), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK'], res.raw);
      const bodies = res.raw.match(/(GET|POST) \/[\w/]+[^\r\n]*?(?=HTTP\/1\.1|$)/g)?.map((s) => s.trim());
      assert.deepEqual(bodies, ['GET /slow/1', 'POST /2 hello', 'GET /slow/3']);
    } finally {
      await p.close();
    }
  });

  test('a body or a head cut short by the FIN never reaches the replica complete; a refusal is still delivered', async () => {
    const p = await startProxy(new TestPool('web', [up.upstream]));
    try {
      complete.length = 0;
      const body = await halfClosed(p.port, 'POST /cut HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhello');
      const head = await halfClosed(p.port, 'GET /partial HTTP/1.1\r\nHost: a\r\n');
      // Refused (CLOSING) when the FIN comes: the refusal is still delivered, then the connection closes.
      const bad = await halfClosed(p.port, 'GARBAGE\r\n\r\n');
      assert.ok(body.closed && head.closed && bad.closed, 'every connection closed');
      assert.deepEqual(statusLines(bad.raw), ['HTTP/1.1 400 Bad Request'], bad.raw);
      assert.deepEqual(statusLines(body.raw), [], body.raw);
      assert.deepEqual(statusLines(head.raw), [], head.raw);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(complete, []);
    } finally {
      await p.close();
    }
  });

  test('a client gone entirely while its request waits: the request runs until answered, then the connection ends', async () => {
    const pool = new TestPool('web', [up.upstream]);
    const p = await startProxy(pool);
    try {
      complete.length = 0;
      const s = net.connect(p.port, '127.0.0.1', () => s.write('GET /slow/gone HTTP/1.1\r\nHost: a\r\n\r\n', () => s.destroy()));
      s.on('error', () => undefined);
      const open = (): Promise<number> => new Promise((resolve) => p.listener.server.getConnections((_e, n) => resolve(n)));
      const deadline = Date.now() + 3000;
      while ((pool.results.length === 0 || pool.pending() > 0 || (await open()) > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(complete, ['GET /slow/gone'], 'the request reached the replica whole');
      assert.deepEqual(pool.outcomes(), { ok: 1 }, 'a client leaving is not the replica’s fault');
      assert.equal(await open(), 0, 'the proxy holds no connection once the answer could not be delivered');
    } finally {
      await p.close();
    }
  });
});
