// The circuit breaker's counters and bounds, and fault injection rates over a seeded random source.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../../test/helpers/seeded-random.ts';
import { CircuitBreaker, overflowResponse } from './breaker.ts';
import { FaultInjector, faultResponse } from './faults.ts';

test('max_requests refuses at once past the bound and admits again when one ends', () => {
  const b = new CircuitBreaker({ maxRequests: 2 });
  assert.equal(b.admit(), 'ok');
  assert.equal(b.admit(), 'ok');
  b.dispatched();
  b.dispatched();
  assert.equal(b.admit(), 'requests');
  b.done(false);
  assert.equal(b.admit(), 'ok');
  assert.deepEqual(b.stats(), { connections: 0, pending: 1, requests: 2, overflow: { connections: 0, pending: 0, requests: 1 } });
});

test('max_pending bounds requests not yet dispatched; a request that ends undispatched frees its slot', () => {
  const b = new CircuitBreaker({ maxPending: 1, maxRequests: 10 });
  assert.equal(b.admit(), 'ok');
  assert.equal(b.admit(), 'pending');
  b.done(true);
  assert.equal(b.admit(), 'ok');
  b.dispatched();
  assert.equal(b.admit(), 'ok');
  assert.equal(b.stats().overflow.pending, 1);
});

test('max_connections; update() changes the bounds for what comes next', () => {
  const b = new CircuitBreaker({ maxConnections: 1 });
  assert.equal(b.openConnection(), true);
  assert.equal(b.openConnection(), false);
  b.update({ maxConnections: 2 });
  assert.equal(b.openConnection(), true);
  b.connectionClosed();
  b.connectionClosed();
  b.update({});
  for (let i = 0; i < 1000; i++) assert.equal(b.openConnection(), true);
  assert.equal(b.stats().overflow.connections, 1);
});

test('overflow answer: 503 with x-cmesh-error: overflow', () => {
  const r = overflowResponse('api', 'requests', true);
  assert.match(r, /^HTTP\/1\.1 503 Service Unavailable\r\n[\s\S]*X-Cmesh-Error: overflow\r\n[\s\S]*Connection: close\r\n\r\n/);
});

test('faults: 10 % delay and 5 % abort land within ±1 point over 20 000 seeded decisions', () => {
  const f = new FaultInjector({ delay: { percent: 10, durationMs: 200 }, abort: { percent: 5, status: 503 } }, seededRandom(7));
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    const d = f.decide();
    assert.ok(d.delayMs === 0 || d.delayMs === 200);
    assert.ok(d.abortStatus === 0 || d.abortStatus === 503);
  }
  assert.ok(Math.abs((f.delayed / n) * 100 - 10) < 1, `delayed ${f.delayed}`);
  assert.ok(Math.abs((f.aborted / n) * 100 - 5) < 1, `aborted ${f.aborted}`);
});

test('faults: 0 and 100 percent are exact; clearing the spec stops them at once', () => {
  const f = new FaultInjector({ abort: { percent: 100, status: 500 }, delay: { percent: 0, durationMs: 5 } }, seededRandom(1));
  for (let i = 0; i < 100; i++) assert.deepEqual(f.decide(), { delayMs: 0, abortStatus: 500 });
  f.spec = {};
  assert.equal(f.active, false);
  assert.deepEqual(f.decide(), { delayMs: 0, abortStatus: 0 });
  assert.match(faultResponse(500, 'web', false), /^HTTP\/1\.1 500 Injected Fault\r\n[\s\S]*X-Cmesh-Error: fault-injected\r\n/);
});
