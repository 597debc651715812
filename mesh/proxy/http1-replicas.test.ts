// HTTP/1.1 to the replicas through the lean proxy path: connection reuse, stalls and close-delimited or invalid
// responses from raw-socket replicas, and the per-replica connection pools. (The client side is http1.test.ts.)

import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { TestPool, describeEachReadPath, rawRequest, startProxy, startUpstream, testMesh } from './testing.ts';

/** A replica that answers every connection with `respond(requestBytes, socket)` once a request head arrived. */
async function rawUpstream(id: string, respond: (head: string, socket: net.Socket) => void): Promise<{ upstream: { id: string; host: string; port: number }; connections: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const state = { connections: 0 };
  const server = net.createServer((s) => {
    state.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.slice(0, end);
      buf = buf.slice(end + 4);
      respond(head, s);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    upstream: { id, host: '127.0.0.1', port },
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * How long a client here waits for the proxy to close its connection. Every request of these tests ends with a close,
 * so this bound only decides when a broken proxy fails the test: a loaded host (the suite runs beside others) must
 * not turn a late answer into a truncated one.
 */
const UNTIL_CLOSED_MS = 20_000;

/** Splits a raw byte stream of HTTP responses into status lines (enough for ordering checks). */
function statusLines(raw: string): string[] {
  return raw.match(/HTTP\/1\.1 \d{3} [^\r\n]*/g) ?? [];
}

describeEachReadPath('replica connections', { timeout: 30_000 }, () => {
  test('kept alive and reused across requests; not reused after Connection: close', async () => {
    let closeNext = false;
    const r = await rawUpstream('web#1', (_head, s) => {
      const close = closeNext;
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n${close ? 'Connection: close\r\n' : ''}\r\nok`);
      if (close) s.end();
    });
    const p = await startProxy(new TestPool('web', [r.upstream]));
    try {
      for (let i = 0; i < 5; i++) assert.match(await rawRequest(p.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', UNTIL_CLOSED_MS), /200 OK[\s\S]*ok$/);
      assert.equal(r.connections, 1);
      closeNext = true;
      assert.match(await rawRequest(p.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', UNTIL_CLOSED_MS), /200 OK/);
      // The replica said close: its FIN must not be answered by reusing the socket.
      assert.doesNotMatch(await rawRequest(p.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', UNTIL_CLOSED_MS), /502/);
      assert.equal(r.connections, 2);
    } finally {
      await p.close();
      await r.close();
    }
  });

  test('a replica that stalls mid-body for idleMs is cut off, and the client sees the truncation', async () => {
    const r = await rawUpstream('web#1', (_head, s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst-part');
    });
    const pool = new TestPool('web', [r.upstream]);
    // requestMs far above idleMs: only the idle timeout can cut this response before requestMs, however slow the host.
    const p = await startProxy(pool, testMesh({ timeouts: { connectMs: 1000, requestMs: 60_000, idleMs: 300 } }));
    try {
      const t0 = Date.now();
      const res = await rawRequest(p.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', UNTIL_CLOSED_MS);
      assert.match(res, /\r\n\r\nfirst-part$/);
      const took = Date.now() - t0;
      assert.ok(took >= 300 && took < UNTIL_CLOSED_MS, `cut after ${took} ms: by idleMs, not requestMs nor the client's patience`);
      assert.deepEqual(pool.outcomes(), { timeout: 1 });
    } finally {
      await p.close();
      await r.close();
    }
  });

  test('a close-delimited response reaches an HTTP/1.1 client chunked, and its connection stays usable', async () => {
    const r = await rawUpstream('web#1', (_head, s) => {
      s.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil-eof');
    });
    const p = await startProxy(new TestPool('web', [r.upstream]));
    try {
      const res = await rawRequest(p.port, 'GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', UNTIL_CLOSED_MS);
      assert.equal(statusLines(res).length, 2, res);
      assert.match(res, /transfer-encoding: chunked\r\n\r\n9\r\nuntil-eof\r\n0\r\n\r\n/i);
    } finally {
      await p.close();
      await r.close();
    }
  });

  test('an invalid response is a 502 upstream-bad-response; a cut body cuts the client connection', async () => {
    const r = await rawUpstream('web#1', (head, s) => {
      if (head.startsWith('GET /bad')) s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
      else s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-part');
    });
    const pool = new TestPool('web', [r.upstream]);
    const p = await startProxy(pool, testMesh({ retries: 0 }));
    try {
      const bad = await rawRequest(p.port, 'GET /bad HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', UNTIL_CLOSED_MS);
      assert.match(bad, /^HTTP\/1\.1 502 /);
      assert.match(bad, /x-cmesh-error: upstream-bad-response/i);
      const cut = await rawRequest(p.port, 'GET /cut HTTP/1.1\r\nHost: a\r\n\r\n', UNTIL_CLOSED_MS);
      assert.match(cut, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nonly-part$/);
      assert.deepEqual(pool.outcomes(), { reset: 2 });
    } finally {
      await p.close();
      await r.close();
    }
  });
});

describeEachReadPath('replica pools', { timeout: 30_000 }, () => {
  test('connectionsPerReplica caps connections; requests beyond it wait for a free one', async () => {
    const r = await rawUpstream('web#1', (_head, s) => {
      setTimeout(() => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'), 50);
    });
    const p = await startProxy(new TestPool('web', [r.upstream]), testMesh(), { connectionsPerReplica: 2 });
    try {
      const all = await Promise.all(Array.from({ length: 6 }, () => rawRequest(p.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')));
      for (const res of all) assert.match(res, /^HTTP\/1\.1 200 OK[\s\S]*ok$/);
      assert.equal(r.connections, 2);
    } finally {
      await p.close();
      await r.close();
    }
  });

  test('closeUpstream lets the running request finish, then closes the pool', async () => {
    let answer: (() => void) | undefined;
    const r = await rawUpstream('web#1', (_head, s) => {
      answer = () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone');
    });
    const p = await startProxy(new TestPool('web', [r.upstream]));
    try {
      const pending = rawRequest(p.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', 3000);
      while (answer === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
      const proxy = p.listener.proxy;
      assert.equal(proxy.kind, 'http');
      let closed = false;
      const closing = proxy.kind === 'http' ? proxy.closeUpstream('web#1').then(() => (closed = true)) : undefined;
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(closed, false, 'waits for the running request');
      answer();
      assert.match(await pending, /200 OK[\s\S]*done$/);
      await closing;
      assert.equal(closed, true);
    } finally {
      await p.close();
      await r.close();
    }
  });

  test('a replica closing idle keep-alive connections costs no failed request', async () => {
    const up = await startUpstream('web#1');
    up.server.keepAliveTimeout = 100;
    const pool = new TestPool('web', [up.upstream]);
    const p = await startProxy(pool);
    try {
      for (let i = 0; i < 4; i++) {
        assert.match(await rawRequest(p.port, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx'), /^HTTP\/1\.1 200 OK/);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      assert.deepEqual(pool.outcomes(), { ok: 4 });
    } finally {
      await p.close();
      await up.close();
    }
  });
});
