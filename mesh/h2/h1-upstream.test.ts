// HTTP/2 streams to HTTP/1.1 replicas go over the proxy's own keep-alive pools (UpstreamClients): one connection
// serves h2 streams and HTTP/1.1 requests alike; bodies are framed for HTTP/1.1, chunked trailers come back as HTTP/2
// trailers, and a failure before any response byte fails over while one after it resets the stream.

import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { READ_PATHS, TestPool, freePort, startProxy, startUpstream, testMesh } from '../proxy/testing.ts';
import { call } from './testing.ts';

for (const readPath of READ_PATHS) {
  test(`h2 streams and HTTP/1.1 requests share one keep-alive connection to a replica (${readPath})`, async (t) => {
    const ports: number[] = [];
    const up = await startUpstream('web#1', (req, res) => {
      req.resume();
      ports.push(req.socket.remotePort!);
      res.end('ok');
    });
    t.after(() => up.close());
    let opened = 0;
    up.server.on('connection', () => opened++);
    const p = await startProxy(new TestPool('web', [up.upstream]), testMesh(), { readPath });
    t.after(() => p.close());
    // HTTP/1.1 first: its connection goes back to the pool, and the h2 stream after it takes that one.
    assert.equal((await fetch(`${p.url}/h1`)).status, 200);
    const session = http2.connect(p.url);
    t.after(() => session.close());
    for (let i = 0; i < 3; i++) assert.equal((await call(session, `/h2-${i}`)).body, 'ok');
    assert.equal((await fetch(`${p.url}/h1-again`)).status, 200);
    assert.equal(opened, 1, 'one upstream connection for both protocols');
    assert.equal(new Set(ports).size, 1);
    assert.equal(ports.length, 5);
  });
}

test('bodies are framed for HTTP/1.1 (length kept, else chunked) and chunked trailers come back as HTTP/2 trailers', async (t) => {
  const up = await startUpstream('web#1', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('trailer', 'x-sum');
      res.setHeader('x-framing', req.headers['transfer-encoding'] ?? `length ${req.headers['content-length'] ?? 'none'}`);
      res.write(Buffer.concat(chunks));
      res.addTrailers({ 'x-sum': String(Buffer.concat(chunks).length) });
      res.end();
    });
  });
  t.after(() => up.close());
  const p = await startProxy(new TestPool('web', [up.upstream]), testMesh());
  t.after(() => p.close());
  const session = http2.connect(p.url);
  t.after(() => session.close());
  const streamed = await call(session, '/up', 'hello h2');
  assert.deepEqual([streamed.status, streamed.body, streamed.headers['x-framing'], streamed.trailers['x-sum']], [200, 'hello h2', 'chunked', '8']);
  assert.equal(streamed.headers.trailer, undefined, 'the Trailer field is HTTP/1.1 framing');
  const sized = await call(session, '/up', 'abc', { 'content-length': '3' });
  assert.deepEqual([sized.body, sized.headers['x-framing'], sized.trailers['x-sum']], ['abc', 'length 3', '3']);
  const empty = await call(session, '/up');
  assert.deepEqual([empty.body, empty.headers['x-framing'], empty.trailers['x-sum']], ['', 'length none', '0']);
});

test('a refused connection fails over to another replica; a replica closing mid-response resets the stream, once', async (t) => {
  const dead = { id: 'web#dead', host: '127.0.0.1', port: await freePort() };
  const cut = await startUpstream('web#cut', (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-length': '100' });
    res.write('partial');
    setTimeout(() => (req.socket as Socket).destroy(), 20);
  });
  const ok = await startUpstream('web#ok', (req, res) => {
    req.resume();
    res.end('fine');
  });
  t.after(() => Promise.all([cut.close(), ok.close()]));
  const refusedPool = new TestPool('web', [dead, ok.upstream]);
  const p = await startProxy(refusedPool, testMesh());
  t.after(() => p.close());
  const session = http2.connect(p.url);
  t.after(() => session.close());
  const answers = await Promise.all(Array.from({ length: 4 }, () => call(session, '/')));
  assert.deepEqual(answers.map((a) => a.body), Array(4).fill('fine'));
  assert.ok(refusedPool.results.some((r) => r.id === 'web#dead' && r.outcome === 'connect-error'), 'passive health hears the refusal');

  const cutPool = new TestPool('web', [cut.upstream, ok.upstream]);
  const q = await startProxy(cutPool, testMesh({ lb: 'round-robin' }));
  t.after(() => q.close());
  const s2 = http2.connect(q.url);
  t.after(() => s2.close());
  const outcomes = await Promise.all(Array.from({ length: 2 }, () => call(s2, '/').then((a) => a.body, (e: NodeJS.ErrnoException) => e.code)));
  assert.deepEqual(outcomes.sort(), ['ERR_HTTP2_STREAM_ERROR', 'fine'], 'the cut response is reset, not retried after its head');
  assert.equal(cut.count, 1);
  assert.ok(cutPool.results.some((r) => r.id === 'web#cut' && r.outcome === 'reset'));
});

test('a stream the client resets, or whose deadline passes, ends its attempt: the pool counts nothing in flight', async (t) => {
  const slow = await startUpstream('web#slow', (req, res) => {
    req.resume();
    setTimeout(() => res.end('late'), 400);
  });
  t.after(() => slow.close());
  const pool = new TestPool('web', [slow.upstream]);
  const p = await startProxy(pool, testMesh({ timeouts: { connectMs: 1000, requestMs: 150, idleMs: 5000 } }));
  t.after(() => p.close());
  const session = http2.connect(p.url);
  t.after(() => session.close());
  const s = session.request({ ':path': '/gone' });
  s.on('error', () => {});
  await new Promise((r) => setTimeout(r, 50));
  s.close(http2.constants.NGHTTP2_CANCEL);
  const timedOut = await call(session, '/deadline');
  assert.equal(timedOut.status, 504);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(pool.inFlight.get('web#slow'), 0);
  assert.deepEqual(pool.results.map((r) => r.outcome).sort(), ['ok', 'timeout']);
});

test("a response's trailers stay its own: the next response on the connection (a head of many fields) has none of them", async (t) => {
  let n = 0;
  const up = await startUpstream('web#1', (req, res) => {
    req.resume();
    if (n++ === 0) {
      res.setHeader('trailer', 'x-trailer');
      res.write('first');
      res.addTrailers({ 'x-trailer': 'of-the-first' });
      res.end();
      return;
    }
    // Over 32 fields: llhttp hands them over in parts (kOnHeaders), as it does trailers.
    for (let i = 0; i < 40; i++) res.setHeader(`x-f${i}`, String(i));
    res.end('second');
  });
  t.after(() => up.close());
  const p = await startProxy(new TestPool('web', [up.upstream]), testMesh());
  t.after(() => p.close());
  const session = http2.connect(p.url);
  t.after(() => session.close());
  const first = await call(session, '/1');
  assert.equal(first.trailers['x-trailer'], 'of-the-first');
  const second = await call(session, '/2');
  assert.deepEqual([second.body, second.headers['x-f39'], second.headers['x-trailer'], second.trailers['x-trailer']], ['second', '39', undefined, undefined]);
});
