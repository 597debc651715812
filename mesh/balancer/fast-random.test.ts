// The balancers' default random source: no Math.random call per pick (its cost on the proxy's path), and still an
// even spread — for the draws themselves and for the default p2c balancer's picks.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fastRandom } from './fast-random.ts';
import { createBalancer } from './index.ts';

// The generator is seeded from Math.random at load, so each run draws a different sequence: bounds are set at 5 standard
// deviations (a bucket's share over 200 000 draws has σ = 0.00067), a chance failure about once in 10^6 runs. The ±0.002
// this test had was 3σ: ten buckets failed about one run in 40 by chance (CI, 2026-12-05).
test('fastRandom: in [0, 1), mean ~0.5, ten equal buckets within ±3.5 %', () => {
  const n = 200_000;
  const buckets = new Array<number>(10).fill(0);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = fastRandom();
    assert.ok(v >= 0 && v < 1, `out of range: ${v}`);
    sum += v;
    buckets[Math.floor(v * 10)]!++;
  }
  assert.ok(Math.abs(sum / n - 0.5) < 0.01, `mean ${sum / n}`);
  for (const b of buckets) assert.ok(Math.abs(b / n - 0.1) < 0.0035, `bucket share ${b / n}`);
});

test('default balancers draw no Math.random per pick; p2c still spreads within ±3 % of a third', () => {
  const real = Math.random;
  let calls = 0;
  Math.random = () => {
    calls++;
    return real();
  };
  try {
    for (const strategy of ['p2c', 'random', 'ewma'] as const) {
      const b = createBalancer(strategy);
      b.setMembers([
        { id: 'a', weight: 1 },
        { id: 'b', weight: 1 },
        { id: 'c', weight: 1 },
      ]);
      const counts: Record<string, number> = {};
      const n = 30_000;
      for (let i = 0; i < n; i++) {
        const id = b.pick()!;
        counts[id] = (counts[id] ?? 0) + 1;
      }
      assert.equal(calls, 0, `${strategy}: Math.random called ${calls} times`);
      for (const id of ['a', 'b', 'c']) assert.ok(Math.abs((counts[id] ?? 0) / n - 1 / 3) < 0.03, `${strategy} ${id}: ${counts[id]}`);
    }
  } finally {
    Math.random = real;
  }
});
