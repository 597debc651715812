// x-cmesh `retry`: `on` decides which failures are retried (conditions and statuses), `per_try_timeout` bounds
// one try so a replay-safe request moves on to another replica; both on the real proxy path.

import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import type { RetrySpec } from '../../daemon/api/traffic-policy.ts';
import type { PickContext } from '../balancer/types.ts';
import { HEADERS_TIMEOUT, classifyError, retryDecision } from '../proxy/retry.ts';
import { type RunningProxy, type TestUpstream, TestPool, startProxy, startUpstream, testMesh } from '../proxy/testing.ts';
import type { Upstream } from '../upstream-pool.ts';
import { ListenerPolicy } from './listener-policy.ts';
import { ProjectPolicyState } from './project-state.ts';

test('retryDecision with `on`: statuses, reset, timeout, connect-failure', () => {
  const base = { replaySafe: true, bodyReplayable: true, retriesUsed: 0, retriesAllowed: 2 };
  const sent = { phase: 'sent' as const, outcome: 'http-5xx' as const, code: undefined };
  const on = (conds: string[], statuses: number[] = []) => ({ on: conds, statuses });
  assert.equal(retryDecision({ ...base, failure: sent, status: 500, on: on([], [500]) }), 'retry');
  assert.equal(retryDecision({ ...base, failure: sent, status: 503, on: on([], [500]) }), 'no');
  assert.equal(retryDecision({ ...base, failure: sent, status: 503 }), 'retry', 'no `on`: 502/503 as before');
  const reset = classifyError(Object.assign(new Error('x'), { code: 'ECONNRESET' }), true, false);
  assert.equal(retryDecision({ ...base, failure: reset, on: on(['timeout']) }), 'no');
  assert.equal(retryDecision({ ...base, failure: reset, on: on(['reset']) }), 'retry');
  const timeout = classifyError(Object.assign(new Error('x'), { code: HEADERS_TIMEOUT }), true, false);
  assert.equal(retryDecision({ ...base, failure: timeout }), 'no');
  assert.equal(retryDecision({ ...base, failure: timeout, on: on(['timeout']) }), 'retry');
  assert.equal(retryDecision({ ...base, replaySafe: false, failure: timeout, on: on(['timeout']) }), 'no');
  const refused = classifyError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), false, false);
  assert.equal(retryDecision({ ...base, failure: refused, on: on(['reset']) }), 'no');
  assert.equal(retryDecision({ ...base, failure: refused, on: on(['connect-failure']) }), 'failover');
});

/** Always tries the first upstream first: makes "the first try fails" deterministic. */
class FirstThenRest extends TestPool {
  override pick(ctx?: PickContext): Upstream | undefined {
    return this.upstreams.find((u) => !ctx?.exclude?.has(u.id)) ?? this.upstreams[0];
  }
}

describe('retry policy on the proxy path', { timeout: 20_000 }, () => {
  let slow: TestUpstream;
  let failing: TestUpstream;
  let good: TestUpstream;
  const proxies: RunningProxy[] = [];

  before(async () => {
    slow = await startUpstream('web#1', (req, res) => {
      req.resume();
      setTimeout(() => res.end('slow'), 1000).unref();
    });
    failing = await startUpstream('web#2', (req, res) => {
      req.resume();
      res.statusCode = 500;
      res.end('boom');
    });
    good = await startUpstream('web#3');
  });

  after(async () => {
    for (const p of proxies) await p.close();
    for (const u of [slow, failing, good]) await u.close();
  });

  async function proxyWith(first: TestUpstream, retry: RetrySpec): Promise<RunningProxy> {
    const pool = new FirstThenRest('web', [first.upstream, good.upstream]);
    const state = new ProjectPolicyState();
    const mesh = testMesh({ retries: retry.attempts, policy: { retry } });
    state.update({ web: { policy: { retry } } });
    const policy = new ListenerPolicy({ service: 'web', listenerPort: 80, state, resolve: () => ({ service: 'web', pool, mesh }) }, mesh.policy);
    const p = await startProxy(pool, mesh, { policy });
    proxies.push(p);
    return p;
  }

  it('per_try_timeout + on: [timeout] moves a slow try to the next replica', async () => {
    const p = await proxyWith(slow, { on: ['timeout'], statuses: [], attempts: 1, perTryTimeoutMs: 150 });
    // A reference 25 ms timer over the same span: on a loaded host every timer (the proxy's per-try one too) fires
    // late, so the wait is judged in the reference's ticks, not in wall-clock ms. 150 ms is ~6 ticks.
    let ticks = 0;
    const reference = setInterval(() => ticks++, 25);
    const res = await fetch(`${p.url}/x`).finally(() => clearInterval(reference));
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^web#3 GET \/x$/);
    assert.ok(ticks < 20, `moved on within ~3x the per-try timeout, not at the slow replica's 1 s: a 25 ms timer ticked ${ticks} times`);
  });

  it('on: [500] retries a 500 elsewhere; without it the 500 reaches the client', async () => {
    const retried = await proxyWith(failing, { on: [], statuses: [500], attempts: 1 });
    assert.match(await (await fetch(`${retried.url}/y`)).text(), /^web#3 /);
    const plain = await proxyWith(failing, { on: ['reset'], statuses: [503], attempts: 1 });
    const res = await fetch(`${plain.url}/y`);
    assert.equal(res.status, 500);
    await res.arrayBuffer();
  });
});
