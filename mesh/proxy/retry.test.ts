// Retry and failover rules: which failures are replayed where, what stays a 502, and the retry budget.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { request } from 'undici';
import type { PickContext } from '../balancer/types.ts';
import type { Upstream } from '../upstream-pool.ts';
import { METHODS } from './llhttp.ts';
import { HEADERS_TIMEOUT, RetryBudget, classifyError, isReplaySafe, nextAfterFailure, retryDecision } from './retry.ts';
import { TestPool, describeEachReadPath, startProxy, startUpstream } from './testing.ts';

const DEAD: Upstream = { id: 'web#dead', host: '127.0.0.1', port: 1 };

/** Always picks the first upstream first, then the others: makes "first attempt fails" deterministic. */
class FirstThenRest extends TestPool {
  override pick(ctx?: PickContext): Upstream | undefined {
    return this.upstreams.find((u) => !ctx?.exclude?.has(u.id)) ?? this.upstreams[0];
  }
}

/** An upstream that reads the request head and resets the connection without answering. */
function resetter(id: string) {
  return startUpstream(id, (req) => {
    req.on('data', () => undefined);
    setImmediate(() => req.socket.resetAndDestroy());
  });
}

describe('retry policy', { timeout: 30_000 }, () => {
  test("replay-safe: RFC 9110's idempotent methods, as llhttp names them or not; anything else only with an Idempotency-Key", () => {
    const idempotent = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'];
    for (const m of idempotent) assert.ok(METHODS.includes(m), m);
    // Every method the parser knows, and the same names built at run time (not the parser's string objects).
    for (const m of [...METHODS, ...idempotent.map((x) => [...x].join(''))]) {
      assert.equal(isReplaySafe(m, false), idempotent.includes(m), m);
      assert.equal(isReplaySafe(m, true), true, m);
    }
    assert.equal(isReplaySafe('get', false), false);
  });

  test('failovers are capped at the pool size (at least 2, at most 8); the pool is asked only for a failover', () => {
    const base = { replaySafe: true, bodyReplayable: true, retriesUsed: 0, retriesAllowed: 2 };
    const notSent = { phase: 'not-sent' as const, outcome: 'connect-error' as const, code: 'ECONNREFUSED' };
    const reset = { phase: 'sent' as const, outcome: 'reset' as const, code: 'ECONNRESET' };
    let asked = 0;
    const pool = (total: number) => ({
      snapshot: () => {
        asked++;
        return { total };
      },
    });
    const cases: Array<[failovers: number, total: number, want: string]> = [
      [0, 1, 'failover'],
      [1, 1, 'failover'],
      [2, 1, 'no'],
      [2, 3, 'failover'],
      [3, 3, 'no'],
      [7, 20, 'failover'],
      [8, 20, 'no'],
    ];
    for (const [used, total, want] of cases) assert.equal(nextAfterFailure({ ...base, failure: notSent }, used, pool(total)), want, `${used} of ${total}`);
    assert.equal(asked, cases.length);
    assert.equal(nextAfterFailure({ ...base, failure: reset }, 99, pool(1)), 'retry');
    assert.equal(nextAfterFailure({ ...base, replaySafe: false, failure: reset }, 0, pool(1)), 'no');
    assert.equal(asked, cases.length);
  });

  test('decision table', () => {
    const base = { replaySafe: true, bodyReplayable: true, retriesUsed: 0, retriesAllowed: 2 };
    const notSent = classifyError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), false, false);
    assert.deepEqual(notSent, { phase: 'not-sent', outcome: 'connect-error', code: 'ECONNREFUSED' });
    assert.equal(retryDecision({ ...base, replaySafe: false, failure: notSent }), 'failover');
    const reset = classifyError(Object.assign(new Error('x'), { code: 'ECONNRESET' }), true, false);
    assert.equal(retryDecision({ ...base, failure: reset }), 'retry');
    assert.equal(retryDecision({ ...base, replaySafe: false, failure: reset }), 'no');
    const epipe = classifyError(Object.assign(new Error('x'), { code: 'EPIPE' }), true, false);
    assert.equal(retryDecision({ ...base, replaySafe: false, failure: epipe }), 'retry');
    assert.equal(retryDecision({ ...base, bodyReplayable: false, failure: reset }), 'no');
    assert.equal(retryDecision({ ...base, retriesUsed: 2, failure: reset }), 'no');
    const timeout = classifyError(Object.assign(new Error('x'), { code: HEADERS_TIMEOUT }), true, false);
    assert.equal(retryDecision({ ...base, failure: timeout }), 'no');
    const responding = classifyError(Object.assign(new Error('x'), { code: 'ECONNRESET' }), true, true);
    assert.equal(retryDecision({ ...base, failure: responding }), 'no');
    const status = { phase: 'sent' as const, outcome: 'http-5xx' as const, code: undefined };
    assert.equal(retryDecision({ ...base, failure: status, status: 503 }), 'retry');
    assert.equal(retryDecision({ ...base, failure: status, status: 500 }), 'no');
    assert.equal(retryDecision({ ...base, replaySafe: false, failure: status, status: 503 }), 'no');
  });

  test('budget allows max(3, 20 % of active) retries in flight', () => {
    const b = new RetryBudget();
    for (let i = 0; i < 10; i++) b.requestStarted();
    assert.ok(b.tryAcquire() && b.tryAcquire() && b.tryAcquire());
    assert.equal(b.tryAcquire(), false);
    for (let i = 0; i < 10; i++) b.requestStarted();
    assert.equal(b.tryAcquire(), true, '20 active → 4');
    assert.equal(b.tryAcquire(), false);
    b.release();
    assert.equal(b.tryAcquire(), true);
    assert.equal(b.exhausted, 2);
  });

  test('budget waiters get freed slots in order, or give up after waitMs', async () => {
    const b = new RetryBudget(0.2, 1, 50);
    b.requestStarted();
    const got: string[] = [];
    b.acquire((ok) => got.push(`a:${ok}`));
    b.acquire((ok) => got.push(`b:${ok}`));
    b.acquire((ok) => got.push(`c:${ok}`));
    assert.deepEqual(got, ['a:true']);
    b.release();
    assert.deepEqual(got, ['a:true', 'b:true']);
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.deepEqual(got, ['a:true', 'b:true', 'c:false']);
    assert.equal(b.retrying, 1);
  });
});

describeEachReadPath('retries through the proxy', { timeout: 30_000 }, () => {
  test('a GET whose replica resets is retried on another replica', async () => {
    const bad = await resetter('web#1');
    const good = await startUpstream('web#2');
    const pool = new FirstThenRest('web', [bad.upstream, good.upstream]);
    const p = await startProxy(pool);
    try {
      const r = await request(`${p.url}/a`);
      assert.equal(r.statusCode, 200);
      assert.equal(await r.body.text(), 'web#2 GET /a');
      assert.deepEqual(pool.results.map((x) => `${x.id}:${x.outcome}`), ['web#1:reset', 'web#2:ok']);
      assert.equal(p.listener.proxy.kind === 'http' && p.listener.proxy.stats().retries, 1);
    } finally {
      await p.close();
      await bad.close();
      await good.close();
    }
  });

  test('a POST is failed over when the connect is refused, but not retried after a reset', async () => {
    const bad = await resetter('web#1');
    const good = await startUpstream('web#2');
    const body = 'x'.repeat(1000);
    try {
      const refused = new FirstThenRest('web', [DEAD, good.upstream]);
      const p1 = await startProxy(refused);
      const r1 = await request(`${p1.url}/post`, { method: 'POST', body });
      assert.equal(r1.statusCode, 200);
      await r1.body.text();
      await p1.close();

      const resets = new FirstThenRest('web', [bad.upstream, good.upstream]);
      const before = good.count;
      const p2 = await startProxy(resets);
      const r2 = await request(`${p2.url}/post`, { method: 'POST', body });
      assert.equal(r2.statusCode, 502);
      assert.equal(r2.headers['x-cmesh-error'], 'upstream-reset');
      assert.match(await r2.body.text(), /replica web#1 of service "web" closed the connection before answering \(ECONNRESET\)/);
      assert.equal(good.count, before, 'the non-idempotent POST must not reach a second replica');
      // With an Idempotency-Key the client vouches for replay safety.
      const r3 = await request(`${p2.url}/post`, { method: 'POST', body, headers: { 'idempotency-key': 'k1' } });
      assert.equal(r3.statusCode, 200);
      await r3.body.text();
      await p2.close();
    } finally {
      await bad.close();
      await good.close();
    }
  });

  test('a PUT over 64 KiB that was partly sent is not retried', async () => {
    const bad = await resetter('web#1');
    const good = await startUpstream('web#2');
    const pool = new FirstThenRest('web', [bad.upstream, good.upstream]);
    const p = await startProxy(pool);
    try {
      const r = await request(`${p.url}/big`, { method: 'PUT', body: Buffer.alloc(1024 * 1024, 1) }).catch((e: Error) => e);
      if (!(r instanceof Error)) {
        assert.equal(r.statusCode, 502);
        await r.body.text();
      }
      assert.equal(good.count, 0);
    } finally {
      await p.close();
      await bad.close();
      await good.close();
    }
  });

  test('502/503 from a replica are retried for GET, forwarded for POST', async () => {
    const sick = await startUpstream('web#1', (req, res) => {
      req.resume();
      res.writeHead(503, { 'content-type': 'text/plain' }).end('sick');
    });
    const good = await startUpstream('web#2');
    const pool = new FirstThenRest('web', [sick.upstream, good.upstream]);
    const p = await startProxy(pool);
    try {
      const g = await request(`${p.url}/g`);
      assert.equal(g.statusCode, 200);
      await g.body.text();
      const post = await request(`${p.url}/p`, { method: 'POST', body: 'x' });
      assert.equal(post.statusCode, 503);
      assert.equal(await post.body.text(), 'sick');
      assert.equal(pool.outcomes()['http-5xx'], 2);
    } finally {
      await p.close();
      await sick.close();
      await good.close();
    }
  });

  test('the retry budget caps concurrent retries and reports exhaustion', async () => {
    // The slow replica holds every retry it gets until each of the 20 requests is either held there or answered 502:
    // a condition, not an 800 ms timer that a loaded host could let a late retry's budget wait outlast.
    const held: Array<() => void> = [];
    let refused = 0;
    const releaseWhenSettled = (): void => {
      if (held.length + refused === 20) for (const answer of held.splice(0)) answer();
    };
    const bad = await resetter('web#1');
    const slow = await startUpstream('web#2', (req, res) => {
      req.resume();
      held.push(() => res.end('late'));
      releaseWhenSettled();
    });
    const pool = new FirstThenRest('web', [bad.upstream, slow.upstream]);
    const p = await startProxy(pool);
    try {
      const statuses = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const r = await request(`${p.url}/`);
          if (r.statusCode === 502) refused++;
          releaseWhenSettled();
          await r.body.text();
          return r.statusCode;
        }),
      );
      const ok = statuses.filter((s) => s === 200).length;
      const stats = p.listener.proxy.kind === 'http' ? p.listener.proxy.stats() : undefined;
      // 20 active requests → at most max(3, 4) retries in flight while the slow replica holds them (until every other
      // retry has waited out its slot and been answered 502).
      assert.ok(ok >= 3 && ok <= 4, `ok=${ok}`);
      assert.equal(stats?.retries, ok);
      assert.equal(statuses.filter((s) => s === 502).length, 20 - ok);
      assert.ok((stats?.budgetExhausted ?? 0) >= 20 - ok);
    } finally {
      await p.close();
      await bad.close();
      await slow.close();
    }
  });
});
