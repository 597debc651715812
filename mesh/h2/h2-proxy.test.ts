// The proxy's HTTP/2 side in-process: h2c prior knowledge and ALPN h2 on the HTTP/1.1 port, streams to HTTP/1.1
// replicas (translated) and to h2c replicas (one session each, balanced per stream, trailers and grpc-status through).

import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, test } from 'node:test';
import type { AccessLogEntry } from '../proxy/access-log.ts';
import type { ProxyStats } from '../proxy/context.ts';
import { READ_PATHS } from '../proxy/testing.ts';
import { type TestUpstream, TestPool, rawRequest, startProxy, startUpstream, testMesh } from '../proxy/testing.ts';
import { TlsServing } from '../tls/serving.ts';
import { testCa } from '../tls/testing.ts';
import { type H2cReplica, call, startH2cReplica } from './testing.ts';

const { ca, store } = await testCa('cmesh-h2');
let h1: TestUpstream;

before(async () => {
  h1 = await startUpstream('web#1', (req, res) => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.setHeader('connection', 'keep-alive');
    res.setHeader('keep-alive', 'timeout=5');
    res.end(JSON.stringify({ headers: req.headers, url: req.url, method: req.method }));
  });
});
after(() => h1.close());

for (const readPath of READ_PATHS) test(`h2c prior knowledge and HTTP/1.1 share a plain port (${readPath}); an h2 stream reaches an HTTP/1.1 replica translated`, async (t) => {
  const log: AccessLogEntry[] = [];
  const p = await startProxy(new TestPool('web', [h1.upstream]), testMesh({ accessLog: true }), { onAccessLog: (_l, e) => log.push(e), readPath });
  t.after(() => p.close());
  const session = http2.connect(p.url);
  t.after(() => session.close());
  const a = await call(session, '/x?y=1', undefined, { 'x-forwarded-client-cert': 'Hash=forged', te: 'trailers' });
  assert.equal(a.status, 200);
  assert.equal(a.headers.connection, undefined);
  assert.equal(a.headers['keep-alive'], undefined);
  const seen = JSON.parse(a.body) as { headers: Record<string, string>; url: string; method: string };
  assert.equal(seen.url, '/x?y=1');
  assert.equal(seen.headers.host, `127.0.0.1:${p.port}`);
  assert.equal(seen.headers['x-forwarded-proto'], 'http');
  assert.equal(seen.headers['x-forwarded-client-cert'], undefined);
  assert.equal(seen.headers.te, undefined);
  const posted = await call(session, '/p', 'hello');
  assert.equal(JSON.parse(posted.body).method, 'POST');
  const plain = await rawRequest(p.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  assert.match(plain, /^HTTP\/1\.1 200/);
  await new Promise((r) => setTimeout(r, 50));
  const h2 = log.filter((e) => e.protocol === 'h2');
  assert.deepEqual(h2.map((e) => [e.method, e.path, e.status, e.upstream]), [['GET', '/x?y=1', 200, 'web#1'], ['POST', '/p', 200, 'web#1']]);
});

test('TLS offers h2 by ALPN: an h2 client gets HTTP/2, an HTTP/1.1-only client still gets HTTP/1.1', async (t) => {
  const tls = new TlsServing({ service: 'web', cert: await store.serviceCert('web', []), fallback: await store.defaultCert(), clientAuth: 'none' });
  const p = await startProxy(new TestPool('web', [h1.upstream]), testMesh(), {}, { tls });
  t.after(() => p.close());
  const session = http2.connect(`https://localhost:${p.port}`, { ca: ca.certPem });
  t.after(() => session.close());
  const a = await call(session, '/tls');
  assert.equal(a.status, 200);
  assert.equal(JSON.parse(a.body).headers['x-forwarded-proto'], 'https');
  assert.equal((session.socket as import('node:tls').TLSSocket).alpnProtocol, 'h2');
  const https = await import('node:https');
  const status = await new Promise<number>((resolve, reject) => {
    https
      .get(`https://localhost:${p.port}/`, { ca: ca.certPem, agent: false }, (r) => {
        r.resume();
        resolve(r.httpVersion === '1.1' ? (r.statusCode ?? 0) : -1);
      })
      .on('error', reject);
  });
  assert.equal(status, 200);
});

test('h2c replicas: one client session, calls balanced per stream over all of them, trailers and grpc-status passed', async (t) => {
  const replicas: H2cReplica[] = await Promise.all(['rpc#1', 'rpc#2', 'rpc#3'].map((id) => startH2cReplica(id)));
  t.after(() => Promise.all(replicas.map((r) => r.close())));
  const requests: AccessLogEntry[] = [];
  const p = await startProxy(new TestPool('rpc', replicas.map((r) => r.upstream)), testMesh({ upstream: 'h2c' }), { onRequest: (e) => requests.push(e) });
  t.after(() => p.close());
  const session = http2.connect(p.url);
  t.after(() => session.close());
  const answers = await Promise.all(Array.from({ length: 90 }, (_, i) => call(session, '/echo.Echo/Say', `m${i}`, { te: 'trailers', 'content-type': 'application/grpc' })));
  const by = new Map<string, number>();
  for (const [i, a] of answers.entries()) {
    assert.equal(a.body, `m${i}`);
    assert.equal(a.trailers['grpc-status'], '0');
    assert.equal(a.trailers['grpc-message'], 'ok');
    assert.equal(a.headers['x-te'], 'trailers');
    by.set(String(a.headers['x-replica']), (by.get(String(a.headers['x-replica'])) ?? 0) + 1);
  }
  assert.deepEqual([...by.values()], [30, 30, 30]);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(requests.length, 90);
  assert.ok(requests.every((e) => e.grpcStatus === '0' && e.protocol === 'h2'));
});

test('h2c replicas: a stream reset before any response byte is replayed elsewhere; GOAWAY opens a fresh session', async (t) => {
  const replicas = await Promise.all(['rpc#1', 'rpc#2'].map((id) => startH2cReplica(id)));
  t.after(() => Promise.all(replicas.map((r) => r.close())));
  const pool = new TestPool('rpc', replicas.map((r) => r.upstream));
  const p = await startProxy(pool, testMesh({ upstream: 'h2c' }));
  t.after(() => p.close());
  const session = http2.connect(p.url);
  t.after(() => session.close());
  replicas[0]!.resetNext = 3;
  const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => call(session, '/echo.Echo/Say', `m${i}`)));
  assert.ok(answers.every((a) => a.status === 200 && a.trailers['grpc-status'] === '0'));
  assert.equal((p.listener.proxy.stats() as ProxyStats).retries, 3);
  replicas[0]!.goaway();
  await new Promise((r) => setTimeout(r, 50));
  const after = await Promise.all(Array.from({ length: 10 }, () => call(session, '/echo.Echo/Say', 'x')));
  assert.ok(after.every((a) => a.status === 200));
  assert.ok(after.some((a) => a.headers['x-replica'] === 'rpc#1'), 'the replica that sent GOAWAY is reached over a new session');
});

test('h2c replicas serve HTTP/1.1 clients too: the request becomes an h2c stream, gRPC trailers come back chunked', async (t) => {
  const replica = await startH2cReplica('rpc#1');
  t.after(() => replica.close());
  const p = await startProxy(new TestPool('rpc', [replica.upstream]), testMesh({ upstream: 'h2c' }));
  t.after(() => p.close());
  const get = await fetch(`${p.url}/status`);
  assert.equal(get.status, 200);
  assert.equal(get.headers.get('x-replica'), 'rpc#1');
  await get.text();
  const raw = await rawRequest(p.port, 'POST /echo.Echo/Say HTTP/1.1\r\nHost: a\r\nTE: trailers\r\nContent-Type: application/grpc\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
  assert.match(raw, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(raw, /\r\nx-te: trailers\r\n/i);
  assert.match(raw, /\r\nTransfer-Encoding: chunked\r\n/i);
  assert.match(raw, /\r\n5\r\nhello\r\n0\r\ngrpc-status: 0\r\ngrpc-message: ok\r\n\r\n$/i);
});

test('hash_key applies to HTTP/2 streams as to HTTP/1.1 requests: one key, one replica', async (t) => {
  const replicas = await Promise.all(['rpc#1', 'rpc#2', 'rpc#3'].map((id) => startH2cReplica(id)));
  t.after(() => Promise.all(replicas.map((r) => r.close())));
  const p = await startProxy(new TestPool('rpc', replicas.map((r) => r.upstream)), testMesh({ upstream: 'h2c', lb: 'ring-hash', hashKey: 'header:x-user' }));
  t.after(() => p.close());
  const session = http2.connect(p.url);
  t.after(() => session.close());
  for (const user of ['ann', 'bob']) {
    const answers = await Promise.all(Array.from({ length: 12 }, () => call(session, '/echo.Echo/Say', 'x', { 'x-user': user })));
    assert.equal(new Set(answers.map((a) => a.headers['x-replica'])).size, 1, `${user} stays on one replica`);
  }
});

test('closing the listener drains HTTP/2: the client gets GOAWAY, its running stream still completes', async (t) => {
  const slow = await startUpstream('web#slow', (req, res) => {
    req.resume();
    setTimeout(() => res.end('late'), 300);
  });
  t.after(() => slow.close());
  const p = await startProxy(new TestPool('web', [slow.upstream]), testMesh(), {}, { drainTimeoutMs: 3000 });
  const session = http2.connect(p.url);
  t.after(() => session.destroy());
  const goaway = new Promise<boolean>((resolve) => session.once('goaway', () => resolve(true)));
  const running = call(session, '/slow');
  await new Promise((r) => setTimeout(r, 100));
  const closed = p.close();
  assert.equal(await goaway, true);
  const a = await running;
  assert.deepEqual([a.status, a.body], [200, 'late']);
  await closed;
});

test('a 503 not yet forwarded is retried on another replica for a replay-safe stream, as for HTTP/1.1', async (t) => {
  const busy = await startUpstream('web#1', (req, res) => {
    req.resume();
    res.statusCode = 503;
    res.end('busy');
  });
  const ok = await startUpstream('web#2', (req, res) => {
    req.resume();
    res.end('ok');
  });
  t.after(() => Promise.all([busy.close(), ok.close()]));
  const p = await startProxy(new TestPool('web', [busy.upstream, ok.upstream]), testMesh());
  t.after(() => p.close());
  const session = http2.connect(p.url);
  t.after(() => session.close());
  const answers = await Promise.all(Array.from({ length: 4 }, () => call(session, '/')));
  assert.deepEqual(answers.map((a) => [a.status, a.body]), Array(4).fill([200, 'ok']));
  assert.equal((p.listener.proxy.stats() as ProxyStats).retries, 2);
  const post = await call(session, '/', 'not replay-safe');
  const second = await call(session, '/', 'not replay-safe');
  assert.deepEqual([post.status, second.status].sort(), [200, 503], 'a POST gets the 503 as it came');
});
