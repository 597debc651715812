// The HTTP proxy against real loopback servers: passthrough, header rules, proxy errors, hash keys, access log.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { type TestUpstream, TestPool, describeEachReadPath, rawRequest, startProxy, startUpstream, testMesh } from './testing.ts';

describeEachReadPath('http proxy', { timeout: 30_000 }, () => {
  let a: TestUpstream;
  let b: TestUpstream;
  before(async () => {
    a = await startUpstream('web#1', (req, res) => {
      req.resume();
      res.writeHead(200, [
        ['X-Upstream', 'web#1'],
        ['Set-Cookie', 'a=1'],
        ['Set-Cookie', 'b=2'],
        ['Connection', 'keep-alive, X-Secret'],
        ['X-Secret', 'hop'],
        ['Keep-Alive', 'timeout=77'],
        ['Content-Type', 'application/json'],
      ].flat());
      res.end(JSON.stringify({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, headers: req.headers }));
    });
    b = await startUpstream('web#2');
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  test('round-trips and balances, reporting every attempt', async () => {
    const pool = new TestPool('web', [a.upstream, b.upstream]);
    const p = await startProxy(pool);
    try {
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const r = await request(`${p.url}/x?i=${i}`);
        assert.equal(r.statusCode, 200);
        seen.add(String(r.headers['x-upstream']));
        await r.body.text();
      }
      assert.deepEqual([...seen].sort(), ['web#1', 'web#2']);
      assert.deepEqual(pool.outcomes(), { ok: 4 });
      assert.equal(pool.pending(), 0);
    } finally {
      await p.close();
    }
  });

  test('passes raw headers through in order and case, strips hop-by-hop both ways', async () => {
    const pool = new TestPool('web', [a.upstream]);
    const p = await startProxy(pool);
    try {
      const res = await rawRequest(
        p.port,
        'GET /h HTTP/1.1\r\nHost: example.test\r\nX-Mixed-Case: 1\r\nAccept: a\r\nAccept: b\r\nConnection: close, X-Drop-Me\r\n' +
          'X-Drop-Me: secret\r\nKeep-Alive: 300\r\nTE: trailers\r\nProxy-Connection: x\r\nProxy-Authorization: Basic Zm9v\r\nUpgrade-Insecure-Requests: 1\r\n\r\n',
      );
      const [head = '', body = ''] = res.split('\r\n\r\n');
      assert.match(head, /^HTTP\/1\.1 200 OK/);
      // Response: duplicates kept, hop-by-hop and Connection-named fields gone (node adds its own keep-alive).
      assert.equal(head.match(/Set-Cookie: /g)?.length, 2);
      assert.doesNotMatch(head, /X-Secret/i);
      assert.doesNotMatch(head, /timeout=77/);
      const seen = JSON.parse(body.slice(body.indexOf('{'), body.lastIndexOf('}') + 1)) as { rawHeaders: string[] };
      // Everything end-to-end keeps its case and order (Host included); X-Forwarded-* come last.
      const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).filter((n) => n !== 'Host');
      assert.deepEqual(names.slice(0, 5), ['X-Mixed-Case', 'Accept', 'Accept', 'Proxy-Authorization', 'Upgrade-Insecure-Requests']);
      for (const gone of ['X-Drop-Me', 'Keep-Alive', 'TE', 'Proxy-Connection']) assert.ok(!names.includes(gone), gone);
      assert.ok(names.includes('Upgrade-Insecure-Requests'), 'a header merely starting with "upgrade" stays');
    } finally {
      await p.close();
    }
  });

  test('X-Forwarded-For is overwritten for untrusted peers and appended for trusted ones', async () => {
    const send = async (trusted: string[] | undefined) => {
      const pool = new TestPool('web', [a.upstream]);
      const p = await startProxy(pool, testMesh(), trusted === undefined ? {} : { trustedProxies: trusted });
      try {
        const r = await request(`${p.url}/`, {
          headers: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'spoof', forwarded: 'for=6.6.6.6', host: 'app.test' },
        });
        return ((await r.body.json()) as { headers: Record<string, string> }).headers;
      } finally {
        await p.close();
      }
    };
    const untrusted = await send(undefined);
    assert.equal(untrusted['x-forwarded-for'], '127.0.0.1');
    assert.equal(untrusted['x-forwarded-proto'], 'http');
    assert.equal(untrusted['x-forwarded-host'], 'app.test');
    assert.equal(untrusted['forwarded'], undefined);
    const trusted = await send(['127.0.0.0/8']);
    assert.equal(trusted['x-forwarded-for'], '6.6.6.6, 127.0.0.1');
    assert.equal(trusted['x-forwarded-proto'], 'https');
    assert.equal(trusted['x-forwarded-host'], 'spoof');
    assert.equal(trusted['forwarded'], 'for=6.6.6.6');
  });

  test('absolute-form targets are forwarded in origin-form with the authority as Host', async () => {
    const pool = new TestPool('web', [a.upstream]);
    const p = await startProxy(pool);
    try {
      const res = await rawRequest(p.port, 'GET http://other.test:81/p?q=1 HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
      const body = JSON.parse(res.slice(res.indexOf('{'), res.lastIndexOf('}') + 1)) as { url: string; headers: Record<string, string> };
      assert.equal(body.url, '/p?q=1');
      assert.equal(body.headers['host'], 'other.test:81');
      const bad = await rawRequest(p.port, 'GET http://user@evil.test/ HTTP/1.1\r\nHost: app.test\r\n\r\n');
      assert.match(bad, /^HTTP\/1\.1 400 /);
    } finally {
      await p.close();
    }
  });

  test('503 names the service and its healthy count when no replica is available', async () => {
    const pool = new TestPool('web', [a.upstream, b.upstream, { id: 'web#3', host: '127.0.0.1', port: 1 }]);
    for (const u of pool.upstreams) pool.down.add(u.id);
    const p = await startProxy(pool);
    try {
      const r = await request(`${p.url}/`);
      assert.equal(r.statusCode, 503);
      assert.equal(r.headers['x-cmesh-error'], 'no-healthy-replica');
      assert.equal(await r.body.text(), 'cmesh: no healthy replica for service "web" (0/3 healthy)\n');
    } finally {
      await p.close();
    }
  });

  test('504 when the replica is slower than requestMs, reported as timeout', async () => {
    const slow = await startUpstream('slow#1', () => undefined);
    const pool = new TestPool('slow', [slow.upstream]);
    const p = await startProxy(pool, testMesh({ timeouts: { connectMs: 1000, requestMs: 200, idleMs: 1000 } }));
    try {
      const t0 = Date.now();
      const r = await request(`${p.url}/`);
      assert.equal(r.statusCode, 504);
      assert.equal(r.headers['x-cmesh-error'], 'upstream-timeout');
      assert.match(await r.body.text(), /replica slow#1 of service "slow" did not answer within 200ms/);
      assert.ok(Date.now() - t0 < 1500);
      assert.deepEqual(pool.outcomes(), { timeout: 1 });
    } finally {
      await p.close();
      await slow.close();
    }
  });

  test('502 with the cause when every replica refuses connections', async () => {
    const pool = new TestPool('web', [
      { id: 'web#1', host: '127.0.0.1', port: 1 },
      { id: 'web#2', host: '127.0.0.1', port: 2 },
    ]);
    const p = await startProxy(pool);
    try {
      const r = await request(`${p.url}/`);
      assert.equal(r.statusCode, 502);
      assert.equal(r.headers['x-cmesh-error'], 'upstream-connect-failed');
      assert.match(await r.body.text(), /^cmesh: could not connect to replica web#\d of service "web" \(ECONNREFUSED\)\n$/);
      assert.deepEqual(pool.outcomes(), { 'connect-error': 2 });
    } finally {
      await p.close();
    }
  });

  test('hash key from a header or cookie pins requests to one replica', async () => {
    for (const hashKey of ['header:X-User', 'cookie:sid']) {
      const pool = new TestPool('web', [a.upstream, b.upstream]);
      const p = await startProxy(pool, testMesh({ lb: 'ring-hash', hashKey }));
      try {
        const seen = new Set<string>();
        for (let i = 0; i < 6; i++) {
          const r = await request(`${p.url}/`, { headers: { 'x-user': 'alice', cookie: 'x=1; sid=alice' } });
          seen.add(String(r.headers['x-upstream']));
          await r.body.text();
        }
        assert.equal(seen.size, 1, hashKey);
      } finally {
        await p.close();
      }
    }
  });

  test('access log lines are JSON with status, upstream and attempts', async () => {
    const lines: string[] = [];
    const pool = new TestPool('web', [b.upstream]);
    const p = await startProxy(pool, testMesh({ accessLog: true }), { onAccessLog: (line) => lines.push(line) });
    try {
      const r = await request(`${p.url}/logged?x=1`);
      await r.body.text();
      await new Promise((resolve) => setTimeout(resolve, 20));
      const entry = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
      assert.equal(entry['status'], 200);
      assert.equal(entry['path'], '/logged?x=1');
      assert.equal(entry['upstream'], 'web#2');
      assert.equal(entry['attempts'], 1);
      assert.equal(entry['service'], 'web');
    } finally {
      await p.close();
    }
  });
});
