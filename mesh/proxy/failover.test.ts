// The acceptance bar in miniature: a replica dies under load and no client request fails.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pool } from 'undici';
import { type EchoProcess, type TestUpstream, TestPool, describeEachReadPath, startEcho, startProxy, startUpstream } from './testing.ts';

interface LoadResult {
  ok: number;
  failed: string[];
}

// Bounds that catch a hang, not a slow host: a loaded CI box may take a minute for the run, but no single request
// may stall for 10 s (a stalled one is a failure), and the run stops at 150 s, which the check below reports.
const STALL_MS = 10_000;
const RUN_CAP_MS = 150_000;

/** A bounded closed-loop load: `total` GETs at `concurrency`, calling `at(n)` after the n-th completion. */
async function load(url: string, path: string, total: number, concurrency: number, at: (done: number) => void): Promise<LoadResult> {
  const client = new Pool(url, { connections: concurrency, pipelining: 1, headersTimeout: STALL_MS, bodyTimeout: STALL_MS });
  const result: LoadResult = { ok: 0, failed: [] };
  let issued = 0;
  let done = 0;
  const deadline = Date.now() + RUN_CAP_MS;
  const worker = async (): Promise<void> => {
    while (issued < total) {
      if (Date.now() >= deadline) {
        result.failed.push(`stopped at the ${RUN_CAP_MS} ms cap after ${done} of ${total}`);
        return;
      }
      issued++;
      try {
        const r = await client.request({ path, method: 'GET' });
        const text = await r.body.text();
        if (r.statusCode === 200) result.ok++;
        else result.failed.push(`${r.statusCode} ${text.trim()}`);
      } catch (err) {
        result.failed.push(String(err));
      }
      at(++done);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await client.close();
  return result;
}

describeEachReadPath('failover under load', { timeout: 3 * RUN_CAP_MS }, () => {
  test('closing one of 3 in-process replicas mid-load fails no request (2 000 GETs, concurrency 16)', async () => {
    const ups: TestUpstream[] = [];
    for (let i = 1; i <= 3; i++) ups.push(await startUpstream(`web#${i}`));
    const pool = new TestPool('web', ups.map((u) => u.upstream));
    const p = await startProxy(pool);
    try {
      const r = await load(p.url, '/', 2000, 16, (n) => {
        if (n === 600) void ups[1]!.kill();
      });
      assert.deepEqual(r.failed, []);
      assert.equal(r.ok, 2000);
      assert.ok(ups[1]!.count < 1000, 'the killed replica stopped receiving traffic');
    } finally {
      await p.close();
      for (const u of ups) await u.close();
    }
  });

  test('SIGKILL of one of 3 echo fixture processes mid-load fails no request', async () => {
    const echoes: EchoProcess[] = [];
    try {
      for (let i = 1; i <= 3; i++) echoes.push(await startEcho(`web#${i}`));
      const pool = new TestPool('web', echoes.map((e) => e.upstream));
      const p = await startProxy(pool);
      try {
        const r = await load(p.url, '/bytes?n=1024', 2000, 16, (n) => {
          if (n === 500) void echoes[0]!.stop('SIGKILL');
        });
        assert.deepEqual(r.failed, []);
        assert.equal(r.ok, 2000);
        const outcomes = pool.outcomes();
        assert.ok((outcomes['connect-error'] ?? 0) + (outcomes['reset'] ?? 0) > 0, JSON.stringify(outcomes));
        assert.equal(pool.pending(), 0);
      } finally {
        await p.close();
      }
    } finally {
      for (const e of echoes) await e.stop();
    }
  });

  test('with passive ejection the dead replica leaves the rotation at once', async () => {
    const echoes: EchoProcess[] = [];
    try {
      for (let i = 1; i <= 3; i++) echoes.push(await startEcho(`web#${i}`));
      const pool = new TestPool('web', echoes.map((e) => e.upstream));
      pool.ejectOnFailure = true;
      const p = await startProxy(pool);
      try {
        let killedAt = -1;
        const r = await load(p.url, '/', 1000, 8, (n) => {
          if (n === 300) {
            killedAt = pool.results.length;
            void echoes[2]!.stop('SIGKILL');
          }
        });
        assert.deepEqual(r.failed, []);
        const after = pool.results.slice(killedAt).filter((x) => x.id === 'web#3' && x.outcome !== 'ok');
        assert.ok(after.length <= 8, `failures at the dead replica after the kill: ${after.length}`);
        assert.ok(pool.down.has('web#3'));
      } finally {
        await p.close();
      }
    } finally {
      for (const e of echoes) await e.stop();
    }
  });
});
