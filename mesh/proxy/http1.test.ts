// HTTP/1.1 on the wire through the lean proxy path: pipelining, Expect, framing both ways, and client-side limits
// (replica connections and pools are in http1-replicas.test.ts). Raw sockets where framing is the point.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { type TestUpstream, TestPool, describeEachReadPath, rawRequest, startProxy, startUpstream, testMesh } from './testing.ts';

/** Splits a raw byte stream of HTTP responses into status lines (enough for ordering checks). */
function statusLines(raw: string): string[] {
  return raw.match(/HTTP\/1\.1 \d{3} [^\r\n]*/g) ?? [];
}

describeEachReadPath('HTTP/1.1 through the proxy', { timeout: 30_000 }, () => {
  let up: TestUpstream;
  const seen: string[] = [];
  before(async () => {
    up = await startUpstream('web#1', (req, res) => {
      seen.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        if (req.url === '/chunked') {
          res.write('part1-');
          res.end('part2');
          return;
        }
        if (req.url === '/no-content') {
          res.writeHead(204).end();
          return;
        }
        if (req.url === '/early-hints') {
          res.writeEarlyHints({ link: '</style.css>; rel=preload' });
          res.end('final');
          return;
        }
        res.setHeader('x-body-length', String(Buffer.byteLength(body)));
        res.setHeader('x-te', String(req.headers['transfer-encoding'] ?? '-'));
        res.end(`${req.method} ${req.url} ${body.length > 100 ? body.length : body}`);
      });
    });
  });
  after(async () => {
    await up.close();
  });

  test('pipelined requests are answered in order on one connection, bodies included', async () => {
    const p = await startProxy(new TestPool('web', [up.upstream]));
    try {
      const res = await rawRequest(
        p.port,
        'GET /1 HTTP/1.1\r\nHost: a\r\n\r\n' +
          'POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello' +
          'GET /3 HTTP/1.1\r\nHost: a\r\n\r\n' +
          'POST /4 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' +
          'GET /5 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
      );
      assert.equal(statusLines(res).length, 5, res);
      const bodies = res.match(/(GET|POST) \/\d [^\r\n]*?(?=HTTP\/1\.1|$)/g)?.map((s) => s.trim());
      assert.deepEqual(bodies, ['GET /1', 'POST /2 hello', 'GET /3', 'POST /4 abc', 'GET /5']);
    } finally {
      await p.close();
    }
  });

  test('bad bytes after a pipelined request: that request is answered, nothing after it is read', async () => {
    const p = await startProxy(new TestPool('web', [up.upstream]));
    try {
      seen.length = 0;
      const res = await rawRequest(p.port, 'GET /ok HTTP/1.1\r\nHost: a\r\n\r\nGARBAGE\r\n\r\nGET /never HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.deepEqual(statusLines(res), ['HTTP/1.1 200 OK']);
      assert.deepEqual(seen.map((s) => s.split(' ')[1]), ['/ok']);
    } finally {
      await p.close();
    }
  });

  test('Expect: 100-continue is answered by the proxy and not forwarded', async () => {
    const p = await startProxy(new TestPool('web', [up.upstream]));
    try {
      seen.length = 0;
      const res = await new Promise<string>((resolve, reject) => {
        const s = net.connect(p.port, '127.0.0.1');
        let got = '';
        s.on('data', (d) => {
          got += d.toString('latin1');
          // Send the body only once the interim answer came, as a well-behaved client does.
          if (got.startsWith('HTTP/1.1 100 Continue\r\n\r\n') && !got.includes('200')) s.write('hello');
          if (got.includes('POST /e hello')) {
            s.destroy();
            resolve(got);
          }
        });
        s.on('error', reject);
        s.write('POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
        setTimeout(() => {
          s.destroy();
          resolve(got);
        }, 2000);
      });
      assert.match(res, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
      assert.doesNotMatch(seen[0] ?? '', /expect/);
      const refused = await rawRequest(p.port, 'POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: something-else\r\n\r\nhello');
      assert.match(refused, /^HTTP\/1\.1 417 /);
    } finally {
      await p.close();
    }
  });

  test('chunked request bodies: complete small ones go with a length, large ones stream chunked', async () => {
    const p = await startProxy(new TestPool('web', [up.upstream]));
    try {
      const small = await rawRequest(p.port, 'POST /s HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
      assert.match(small, /x-body-length: 11\r\n/i);
      assert.match(small, /x-te: -\r\n/i);
      assert.match(small, /POST \/s hello world$/);
      const big = 'x'.repeat(100 * 1024);
      const chunked = `${(50 * 1024).toString(16)}\r\n${big.slice(0, 50 * 1024)}\r\n${(50 * 1024).toString(16)}\r\n${big.slice(50 * 1024)}\r\n0\r\n\r\n`;
      const large = await rawRequest(p.port, `POST /l HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked}`);
      assert.match(large, /x-body-length: 102400\r\n/i);
      assert.match(large, /x-te: chunked\r\n/i);
    } finally {
      await p.close();
    }
  });

  test('chunked responses stay chunked for HTTP/1.1 and become close-delimited for HTTP/1.0', async () => {
    const p = await startProxy(new TestPool('web', [up.upstream]));
    try {
      const v11 = await rawRequest(p.port, 'GET /chunked HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
      assert.match(v11, /transfer-encoding: chunked\r\n/i);
      assert.match(v11, /\r\n6\r\npart1-\r\n5\r\npart2\r\n0\r\n\r\nHTTP\/1\.1 200 OK/);
      assert.match(v11, /GET \/after $/);
      const v10 = await rawRequest(p.port, 'GET /chunked HTTP/1.0\r\nHost: a\r\n\r\n');
      assert.match(v10, /^HTTP\/1\.1 200 OK\r\n/);
      assert.doesNotMatch(v10, /transfer-encoding/i);
      assert.match(v10, /connection: close\r\n/i);
      assert.match(v10, /\r\n\r\npart1-part2$/);
    } finally {
      await p.close();
    }
  });

  test('HTTP/1.0 keep-alive, a missing Host filled in for the replica, HEAD and 204 without bodies', async () => {
    const p = await startProxy(new TestPool('web', [up.upstream]));
    try {
      seen.length = 0;
      const res = await rawRequest(
        p.port,
        'GET /ten HTTP/1.0\r\nConnection: keep-alive\r\n\r\nHEAD /head HTTP/1.1\r\nHost: a\r\n\r\nGET /no-content HTTP/1.1\r\nHost: a\r\n\r\nGET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
      );
      assert.deepEqual(statusLines(res), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 204 No Content', 'HTTP/1.1 200 OK']);
      assert.match(res, /connection: keep-alive\r\n/i);
      assert.match(seen[0] ?? '', /"host":"127\.0\.0\.1:\d+"/);
      // HEAD and 204: no body (nor added framing) before the next status line.
      assert.match(res, /GET \/ten HTTP\/1\.1 200 OK\r\n[\s\S]*?\r\n\r\nHTTP\/1\.1 204 No Content\r\n[\s\S]*?\r\n\r\nHTTP\/1\.1 200 OK/);
      assert.doesNotMatch(res.slice(res.indexOf('GET /ten') + 8), /transfer-encoding/i);
      assert.match(res, /GET \/last $/);
    } finally {
      await p.close();
    }
  });

  test('1xx interim responses from the replica are not forwarded', async () => {
    const p = await startProxy(new TestPool('web', [up.upstream]));
    try {
      const res = await rawRequest(p.port, 'GET /early-hints HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
      assert.deepEqual(statusLines(res), ['HTTP/1.1 200 OK']);
      assert.match(res, /final$/);
    } finally {
      await p.close();
    }
  });

  test('Connection cannot be used to strip Content-Length from a request', async () => {
    const p = await startProxy(new TestPool('web', [up.upstream]));
    try {
      const res = await rawRequest(p.port, 'POST /cl HTTP/1.1\r\nHost: a\r\nConnection: close, Content-Length\r\nContent-Length: 5\r\n\r\nhello');
      assert.match(res, /POST \/cl hello$/);
    } finally {
      await p.close();
    }
  });
});

describeEachReadPath('client-side limits', { timeout: 30_000 }, () => {
  let up: TestUpstream;
  before(async () => {
    up = await startUpstream('web#1');
  });
  after(async () => {
    await up.close();
  });

  test('slowloris: a head not complete within headersTimeoutMs gets 408 and never reaches a replica', async () => {
    const p = await startProxy(new TestPool('web', [up.upstream]), testMesh(), {}, { headersTimeoutMs: 300 });
    try {
      const before = up.count;
      const t0 = Date.now();
      const res = await rawRequest(p.port, 'GET /slow HTTP/1.1\r\nHost: a\r\nX-Dribble: ', 3000);
      assert.match(res, /^HTTP\/1\.1 408 /);
      assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
      // A connection that never sends a byte is bounded the same way.
      assert.match(await rawRequest(p.port, '', 3000), /^HTTP\/1\.1 408 /);
      assert.equal(up.count, before);
    } finally {
      await p.close();
    }
  });

  test('a body not complete within requestTimeoutMs gets 408', async () => {
    const p = await startProxy(new TestPool('web', [up.upstream]), testMesh(), {}, { requestTimeoutMs: 300 });
    try {
      const res = await rawRequest(p.port, 'POST /slow HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc', 3000);
      assert.match(res, /^HTTP\/1\.1 408 /);
    } finally {
      await p.close();
    }
  });

  test('idle keep-alive connections are closed after keepAliveTimeoutMs', async () => {
    const p = await startProxy(new TestPool('web', [up.upstream]), testMesh(), {}, { keepAliveTimeoutMs: 300 });
    try {
      const t0 = Date.now();
      const res = await rawRequest(p.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', 3000);
      assert.match(res, /^HTTP\/1\.1 200 OK/);
      const took = Date.now() - t0;
      assert.ok(took >= 250 && took < 1500, `closed after ${took} ms`);
    } finally {
      await p.close();
    }
  });

  test('a head over maxHeaderSize gets 431', async () => {
    const p = await startProxy(new TestPool('web', [up.upstream]), testMesh(), {}, { maxHeaderSize: 1024 });
    try {
      const res = await rawRequest(p.port, `GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(2000)}\r\n\r\n`);
      assert.match(res, /^HTTP\/1\.1 431 /);
    } finally {
      await p.close();
    }
  });
});
