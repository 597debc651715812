// Bodies stream through with backpressure (bounded memory both ways), and a client that leaves aborts the upstream.

import assert from 'node:assert/strict';
import http from 'node:http';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { type EchoProcess, TestPool, describeEachReadPath, startEcho, startProxy, startUpstream } from './testing.ts';

const MB = 1024 * 1024;
const SIZE = 100 * MB;

/** Samples RSS while `run` executes; returns the peak growth over the baseline in bytes. */
async function peakRssGrowth(run: () => Promise<void>): Promise<number> {
  globalThis.gc?.();
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage.rss()) - base;
}

function* pattern(total: number): Generator<Buffer> {
  const chunk = Buffer.alloc(64 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = i & 0xff;
  for (let left = total; left > 0; left -= chunk.length) yield left >= chunk.length ? chunk : chunk.subarray(0, left);
}

describeEachReadPath('streaming', { timeout: 30_000 }, () => {
  let echo: EchoProcess;
  before(async () => {
    echo = await startEcho('web#1');
  });
  after(async () => {
    await echo.stop();
  });

  test('100 MB download and 100 MB upload+echo with RSS growth < 50 MB', async () => {
    const pool = new TestPool('web', [echo.upstream]);
    const p = await startProxy(pool);
    const download = async (size: number): Promise<void> => {
      const r = await request(`${p.url}/bytes?n=${size}`);
      for await (const _ of r.body) {
      }
    };
    try {
      // The first tens of MB through any node socket grow RSS once (allocator arenas, slab pools) even without a
      // proxy; warm up so the measurement shows what matters: no growth with body size.
      await download(32 * MB);
      const down = await peakRssGrowth(async () => {
        const r = await request(`${p.url}/bytes?n=${SIZE}`);
        assert.equal(r.statusCode, 200);
        assert.equal(r.headers['content-length'], String(SIZE));
        let n = 0;
        for await (const chunk of r.body as AsyncIterable<Buffer>) {
          // Spot-check the fixture's pattern (byte i is i & 0xff) without holding anything.
          assert.equal(chunk[0], n & 0xff);
          n += chunk.length;
        }
        assert.equal(n, SIZE);
      });
      const up = await peakRssGrowth(async () => {
        const r = await request(`${p.url}/echo`, {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream' },
          body: Readable.from(pattern(SIZE)),
        });
        assert.equal(r.statusCode, 200);
        let n = 0;
        for await (const chunk of r.body as AsyncIterable<Buffer>) n += chunk.length;
        assert.equal(n, SIZE);
      });
      assert.ok(down < 50 * MB, `download grew RSS by ${(down / MB).toFixed(1)} MB`);
      assert.ok(up < 50 * MB, `upload grew RSS by ${(up / MB).toFixed(1)} MB`);
      assert.deepEqual(pool.outcomes(), { ok: 3 });
    } finally {
      await p.close();
    }
  });

  test('a client that resets while waiting, or closes mid-response, aborts the upstream request', async () => {
    let closedEarly = 0;
    const slow = await startUpstream('slow#1', (req, res) => {
      res.on('close', () => {
        if (!res.writableFinished) closedEarly++;
      });
      req.resume();
      if (req.url === '/wait') return; // never answers
      res.writeHead(200, { 'content-length': String(1024 * MB) });
      const chunk = Buffer.alloc(64 * 1024);
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk));
      };
      res.on('drain', pump);
      pump();
    });
    const pool = new TestPool('slow', [slow.upstream]);
    const p = await startProxy(pool);
    try {
      const waiting = http.get(`${p.url}/wait`);
      waiting.on('error', () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
      // A reset says the client is gone; a FIN alone may be a half-close that still reads (half-close.test.ts).
      waiting.socket?.resetAndDestroy();
      const streaming = http.get(`${p.url}/stream`, (res) => {
        let n = 0;
        res.on('data', (d: Buffer) => {
          n += d.length;
          if (n > 2 * MB) streaming.destroy();
        });
      });
      streaming.on('error', () => undefined);
      const deadline = Date.now() + 3000;
      while ((closedEarly < 2 || pool.pending() > 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(closedEarly, 2, 'both upstream responses were cut when their clients left');
      assert.equal(pool.pending(), 0, 'every attempt was reported');
      assert.deepEqual(pool.outcomes(), { ok: 2 }, 'a client leaving is not the replica’s fault');
    } finally {
      await p.close();
      await slow.close();
    }
  });
});
