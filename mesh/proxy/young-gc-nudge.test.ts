import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { NUDGE_BYTES, youngGcNudge } from './young-gc-nudge.ts';

test('one minor GC each time NUDGE_BYTES more body bytes were counted, none before', () => {
  const calls: unknown[] = [];
  const count = youngGcNudge((o) => void calls.push(o));
  count(NUDGE_BYTES - 1);
  assert.equal(calls.length, 0);
  count(1);
  assert.deepEqual(calls, [{ type: 'minor' }]);
  for (let i = 0; i < 64; i++) count(64 * 1024);
  assert.equal(calls.length, 2, '64 × 64 KiB = 4 MiB more: one more');
});

test('without an exposed gc it only counts', () => {
  const count = youngGcNudge(undefined, 10);
  assert.doesNotThrow(() => {
    for (let i = 0; i < 100; i++) count(7);
  });
});

test("node's exposed gc runs a scavenge, not a full GC, for { type: 'minor' } (what the daemon calls)", () => {
  const out = execFileSync(process.execPath, ['--expose-gc', '--trace-gc', '-e', "gc({ type: 'minor' })"], { encoding: 'utf8' });
  assert.match(out, /Scavenge/);
  assert.doesNotMatch(out, /Mark-Compact/);
});
