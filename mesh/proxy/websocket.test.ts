// WebSocket upgrades through the proxy against the echo fixture: echo, refusal relay, failover, replica death.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { WebSocket } from 'undici';
import { type EchoProcess, TestPool, describeEachReadPath, rawRequest, startEcho, startProxy } from './testing.ts';

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error('websocket failed to open'));
  });
}

function next(ws: WebSocket): Promise<string | ArrayBuffer> {
  return new Promise((resolve) => {
    ws.onmessage = (e) => resolve(e.data as string | ArrayBuffer);
  });
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve(-1);
    ws.onclose = (e) => resolve(e.code);
  });
}

describeEachReadPath('websocket', { timeout: 30_000 }, () => {
  let echo: EchoProcess;
  before(async () => {
    echo = await startEcho('web#1');
  });
  after(async () => {
    await echo.stop();
  });

  test('echoes text and a 1 MiB binary message, and the close code round-trips', async () => {
    const pool = new TestPool('web', [echo.upstream]);
    const p = await startProxy(pool);
    try {
      const ws = await open(`ws://127.0.0.1:${p.port}/ws`);
      const text = next(ws);
      ws.send('hello through cmesh');
      assert.equal(await text, 'hello through cmesh');
      const big = new Uint8Array(1024 * 1024).map((_, i) => i & 0xff);
      const bin = next(ws);
      ws.send(big);
      assert.deepEqual(new Uint8Array((await bin) as ArrayBuffer), big);
      const code = closed(ws);
      ws.close(4001, 'bye');
      assert.equal(await code, 4001);
      const deadline = Date.now() + 2000;
      while (pool.pending() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(pool.outcomes(), { ok: 1 });
    } finally {
      await p.close();
    }
  });

  test('a refused upgrade is relayed and the connection closed after it', async () => {
    const p = await startProxy(new TestPool('web', [echo.upstream]));
    try {
      const res = await rawRequest(
        p.port,
        'GET /not-ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' +
          'GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n',
      );
      assert.match(res, /^HTTP\/1\.1 404 Not Found\r\n/);
      assert.equal(res.match(/HTTP\/1\.1/g)?.length, 1, 'bytes after a refused upgrade are not read as a request');
    } finally {
      await p.close();
    }
  });

  test('fails over when the first replica refuses the connection', async () => {
    const pool = new TestPool('web', [{ id: 'web#dead', host: '127.0.0.1', port: 1 }, echo.upstream]);
    const p = await startProxy(pool);
    try {
      const ws = await open(`ws://127.0.0.1:${p.port}/ws`);
      const msg = next(ws);
      ws.send('x');
      assert.equal(await msg, 'x');
      ws.close();
      await closed(ws);
      assert.equal(pool.results[0]?.outcome, 'connect-error');
    } finally {
      await p.close();
    }
  });

  test('a replica that dies closes the client side too', async () => {
    const mortal = await startEcho('web#2');
    const p = await startProxy(new TestPool('web', [mortal.upstream]));
    try {
      const ws = await open(`ws://127.0.0.1:${p.port}/ws`);
      const code = closed(ws);
      await mortal.stop('SIGKILL');
      assert.equal(await code, 1006);
    } finally {
      await p.close();
    }
  });

  test('no replica → 503 written on the raw socket', async () => {
    const pool = new TestPool('web', [echo.upstream]);
    pool.down.add('web#1');
    const p = await startProxy(pool);
    try {
      const res = await rawRequest(p.port, 'GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      assert.match(res, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
      assert.match(res, /no healthy replica for service "web" \(0\/1 healthy\)/);
    } finally {
      await p.close();
    }
  });
});
