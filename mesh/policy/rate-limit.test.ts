// Token buckets on a fake clock: the burst, the refill rate, Retry-After, keys, and the bound on keys.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RateLimitSpec } from '../../daemon/api/traffic-policy.ts';
import { RateLimiter, rateLimitedResponse, rateLimitKey } from './rate-limit.ts';

function clock() {
  const c = { t: 0, now: () => c.t };
  return c;
}

test('burst passes at once, then the rate: 50 rps burst 100 accepts 100 + 50/s', () => {
  const c = clock();
  const rl = new RateLimiter({ requestsPerSecond: 50, burst: 100, key: 'ip' }, { now: c.now });
  let ok = 0;
  for (let i = 0; i < 150; i++) if (rl.take('a') === 0) ok++;
  assert.equal(ok, 100);
  // 10 s offered at 1000 rps (every millisecond): 100 burst (already spent) + 50 × 10 refilled.
  for (let ms = 1; ms <= 10_000; ms++) {
    c.t = ms;
    if (rl.take('a') === 0) ok++;
  }
  assert.equal(ok, 600);
  assert.equal(rl.limited, 150 - 100 + 10_000 - 500);
});

test('Retry-After is the whole seconds until the next token, at least 1', () => {
  const c = clock();
  const slow = new RateLimiter({ requestsPerSecond: 0.2, burst: 1, key: 'ip' }, { now: c.now });
  assert.equal(slow.take('a'), 0);
  assert.equal(slow.take('a'), 5);
  c.t = 2500;
  assert.equal(slow.take('a'), 3);
  c.t = 5000;
  assert.equal(slow.take('a'), 0);
  const fast = new RateLimiter({ requestsPerSecond: 100, burst: 1, key: 'ip' }, { now: c.now });
  fast.take('a');
  assert.equal(fast.take('a'), 1);
});

test('keys have their own buckets; the least recently used key (to the second) is evicted past the bound', () => {
  const c = clock();
  // A rate so low that no token comes back during the test.
  const rl = new RateLimiter({ requestsPerSecond: 0.0001, burst: 1, key: 'ip' }, { now: c.now, maxKeys: 2 });
  assert.equal(rl.take('a'), 0);
  c.t += 1500;
  assert.equal(rl.take('b'), 0);
  c.t += 1500;
  assert.ok(rl.take('a') > 0, 'a is empty (and now the most recently used: last moved over a second ago)');
  assert.equal(rl.take('c'), 0, 'c evicts b, the least recently used');
  assert.equal(rl.keys, 2);
  assert.ok(rl.take('a') > 0, 'a was kept');
  assert.equal(rl.take('b'), 0, 'b starts over with a full bucket');
});

test('a key used again within the same second keeps its place in the eviction order', () => {
  const c = clock();
  const rl = new RateLimiter({ requestsPerSecond: 0.0001, burst: 1, key: 'ip' }, { now: c.now, maxKeys: 2 });
  rl.take('a');
  rl.take('b');
  rl.take('a');
  // `a` was touched 0 ms ago when used again: not moved, so it is still the oldest and goes first.
  rl.take('c');
  assert.equal(rl.take('b') > 0, true, 'b kept');
  assert.equal(rl.take('a'), 0, 'a was evicted and starts over');
});

test('key kinds: ip, route (per route of the service, else the service), header (missing header shares one bucket)', () => {
  const h = ['X-User', 'u1'];
  const spec = (key: RateLimitSpec['key']): RateLimitSpec => ({ requestsPerSecond: 1, burst: 1, key });
  assert.equal(rateLimitKey(spec('ip'), '10.0.0.1', h, 'web', { index: 2 }), '10.0.0.1');
  assert.equal(rateLimitKey(spec('route'), '10.0.0.1', h, 'web', { index: 2 }), 'web#2');
  assert.equal(rateLimitKey(spec('route'), '10.0.0.1', h, 'web', { index: 0 }), 'web#0');
  assert.equal(rateLimitKey(spec('route'), '10.0.0.1', h, 'web', undefined), 'web');
  assert.equal(rateLimitKey(spec('header:x-user'), '10.0.0.1', h, 'web', { index: 2 }), 'u1');
  assert.equal(rateLimitKey(spec('header:x-user'), '10.0.0.1', [], 'web', undefined), '');
});

test('the 429 answer carries Retry-After and x-cmesh-error', () => {
  const r = rateLimitedResponse(3, 'web', false);
  assert.match(r, /^HTTP\/1\.1 429 Too Many Requests\r\n/);
  assert.match(r, /\r\nRetry-After: 3\r\n/);
  assert.match(r, /\r\nX-Cmesh-Error: rate-limited\r\n/);
  const [head, body] = r.split('\r\n\r\n');
  assert.equal(Number(/Content-Length: (\d+)/.exec(head ?? '')?.[1]), Buffer.byteLength(body ?? ''));
});
