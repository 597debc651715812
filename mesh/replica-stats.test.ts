// Replica stats: percentiles within the histogram's error, error rate, requests/s and the 60 s window sliding.

import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
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

test('the window sums kept as slots fill, reuse and expire equal a full merge of the ring, clock steps back included', () => {
  let t = 1_000_000_000;
  const stats = new ReplicaStats(() => t);
  const ring = stats as unknown as { counts: Uint32Array; errors: Uint32Array; hist: Uint32Array; slotSecond: Float64Array; merged: Float64Array };
  /** The ring merged slot by slot, as snapshot() did before it kept sums: requests, errors and the p50/p99 bins. */
  const full = () => {
    const sec = Math.floor(t / 1000);
    let requests = 0;
    let errors = 0;
    const bins = new Array<number>(64).fill(0);
    for (let slot = 0; slot < 60; slot++) {
      const age = sec - ring.slotSecond[slot]!;
      if (ring.slotSecond[slot]! < 0 || age < 0 || age >= 60) continue;
      requests += ring.counts[slot]!;
      errors += ring.errors[slot]!;
      for (let b = 0; b < 64; b++) bins[b]! += ring.hist[slot * 64 + b]!;
    }
    return { requests, errors, bins };
  };
  let seed = 7;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  let checked = 0;
  for (let step = 0; step < 20_000; step++) {
    const r = rand();
    // Mostly small steps, sometimes a gap past the window, and now and then the clock stepping back.
    t += r < 0.9 ? Math.floor(rand() * 300) : r < 0.97 ? Math.floor(rand() * 90_000) : -Math.floor(rand() * 20_000);
    stats.record(rand() * 50, rand() > 0.1);
    if (step % 7 === 0) {
      const s = stats.snapshot();
      const want = full();
      assert.deepEqual({ requests: s.requests, errors: s.errors, bins: [...ring.merged] }, want, `step ${step}`);
      checked++;
    }
  }
  assert.ok(checked > 2000);
});
