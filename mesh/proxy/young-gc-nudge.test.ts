import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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

/** Minor GCs the nudge ran while the probe streamed 64 MiB through the real proxy (`http` or `tcp` mode). */
function nudgesWhileStreaming(mode: 'http' | 'tcp'): number {
  const probe = fileURLToPath(new URL('./young-gc-nudge-probe.ts', import.meta.url));
  const out = execFileSync(process.execPath, ['--expose-gc', '--trace-gc', '--max-semi-space-size=1', '--import', 'tsx', probe, mode], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return out.split('\n').filter((line) => /Scavenge.*testing;/.test(line)).length;
}

test('64 MiB of body through the HTTP proxy: a minor GC about every 4 MiB (node parser body chunks are counted)', () => {
  const n = nudgesWhileStreaming('http');
  assert.ok(n >= 14 && n <= 17, `${n} nudges`);
});

test('64 MiB through a TCP-mode tunnel: a minor GC about every 4 MiB (tunnel reads are counted)', () => {
  const n = nudgesWhileStreaming('tcp');
  assert.ok(n >= 14 && n <= 17, `${n} nudges`);
});
