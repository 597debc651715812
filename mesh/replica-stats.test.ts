// Replica stats: percentiles within the histogram's error, error rate, requests/s and the 60 s window sliding.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplicaStats } from './replica-stats.ts';

function near(actual: number | null, expected: number, rel = 0.13): void {
  assert.ok(actual !== null && Math.abs(actual - expected) <= expected * rel, `${actual} not within ${rel * 100}% of ${expected}`);
}

describe('replica stats', () => {
  it('latency percentiles over 1..1000 ms', () => {
    let now = 1_000_000;
    const s = new ReplicaStats(() => now);
    for (let i = 1; i <= 1000; i++) s.record(i, true);
    now += 500;
    const snap = s.snapshot();
    near(snap.p50Ms, 500);
    near(snap.p95Ms, 950);
    near(snap.p99Ms, 990);
    assert.equal(snap.requests, 1000);
    assert.ok(snap.ewmaMs! > 900, 'ewma follows recent samples');
  });

  it('error rate and requests/s', () => {
    let now = 2_000_000;
    const s = new ReplicaStats(() => now);
    for (let sec = 0; sec < 20; sec++) {
      for (let i = 0; i < 50; i++) s.record(10, i % 10 !== 0);
      now += 1000;
    }
    const snap = s.snapshot();
    assert.equal(snap.requests, 1000);
    assert.equal(snap.errorRate, 0.1);
    assert.equal(snap.requestsPerSec, 50);
  });

  it('forgets what is older than 60 s, in fixed memory', () => {
    let now = 3_000_000;
    const s = new ReplicaStats(() => now);
    for (let i = 0; i < 100; i++) s.record(1000, false);
    now += 30_000;
    for (let i = 0; i < 100; i++) s.record(10, true);
    now += 31_000;
    const snap = s.snapshot();
    assert.equal(snap.requests, 100);
    assert.equal(snap.errors, 0);
    near(snap.p95Ms, 10);
    now += 60_000;
    const idle = s.snapshot();
    assert.deepEqual([idle.requests, idle.p50Ms, idle.requestsPerSec], [0, null, 0]);
  });
});
