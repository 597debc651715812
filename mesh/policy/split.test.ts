// The smooth weighted split: exact shares over a period, interleaved, zero weights never picked.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SmoothWeighted } from './split.ts';

function counts(s: SmoothWeighted, n: number, size: number): number[] {
  const out = new Array<number>(size).fill(0);
  for (let i = 0; i < n; i++) out[s.pick()]!++;
  return out;
}

test('90/10 lands exactly on every period of 10, and the 10 is spread out', () => {
  const s = new SmoothWeighted([90, 10]);
  const seq = Array.from({ length: 10 }, () => s.pick());
  assert.deepEqual(seq, [0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
  assert.deepEqual(counts(s, 2000, 2), [1800, 200]);
});

test('nginx example 5/1/1 gives a a b a c a a', () => {
  const s = new SmoothWeighted([5, 1, 1]);
  assert.deepEqual(Array.from({ length: 7 }, () => s.pick()), [0, 0, 1, 0, 2, 0, 0]);
});

test('weights need not sum to 100; zero weight is idle; all zero is refused', () => {
  assert.deepEqual(counts(new SmoothWeighted([1, 0, 3]), 400, 3), [100, 0, 300]);
  assert.deepEqual(counts(new SmoothWeighted([0.5, 0.25]), 300, 2), [200, 100]);
  assert.throws(() => new SmoothWeighted([0, 0]), /positive weight/);
});
