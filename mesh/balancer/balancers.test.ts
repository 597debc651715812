// Distribution and contract tests for the balancers: deterministic via a seeded random source and a fake clock.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EwmaBalancer } from './ewma.ts';
import { createBalancer } from './index.ts';
import type { Balancer } from './types.ts';
import { seededRandom } from '../../test/helpers/seeded-random.ts';

export const seeded = seededRandom;

const N = 30_000;
const three = [
  { id: 'a', weight: 1 },
  { id: 'b', weight: 1 },
  { id: 'c', weight: 1 },
];

function counts(b: Balancer, picks: number, each?: (id: string) => void): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < picks; i++) {
    const id = b.pick();
    assert.ok(id, 'pick returned undefined');
    out[id] = (out[id] ?? 0) + 1;
    each?.(id);
  }
  return out;
}

function assertShare(c: Record<string, number>, id: string, expected: number, tol: number): void {
  const share = (c[id] ?? 0) / N;
  assert.ok(Math.abs(share - expected) <= tol, `${id}: share ${share.toFixed(4)} not within ${expected}±${tol}`);
}

describe('distribution, 3 members × 30 000 picks', () => {
  it('round-robin gives exact thirds in ring order', () => {
    const b = createBalancer('round-robin');
    b.setMembers(three);
    assert.deepEqual([b.pick(), b.pick(), b.pick(), b.pick()], ['a', 'b', 'c', 'a']);
    const c = counts(b, N - 4);
    c.a = (c.a ?? 0) + 2;
    c.b = (c.b ?? 0) + 1;
    c.c = (c.c ?? 0) + 1;
    assert.deepEqual(c, { a: 10_000, b: 10_000, c: 10_000 });
  });

  it('random is within ±3 % of a third', () => {
    const b = createBalancer('random', { rand: seeded(1) });
    b.setMembers(three);
    const c = counts(b, N);
    for (const id of ['a', 'b', 'c']) assertShare(c, id, 1 / 3, 0.03);
  });

  it('smooth weighted 1:2:3 is within ±2 % and interleaved', () => {
    const b = createBalancer('weighted');
    b.setMembers([
      { id: 'a', weight: 1 },
      { id: 'b', weight: 2 },
      { id: 'c', weight: 3 },
    ]);
    const first = Array.from({ length: 6 }, () => b.pick()).join('');
    // nginx's smooth order for 1:2:3 never sends three in a row to the heaviest member.
    assert.ok(!first.includes('ccc'), first);
    const c = counts(b, N - 6);
    c.a = (c.a ?? 0) + 1;
    c.b = (c.b ?? 0) + 2;
    c.c = (c.c ?? 0) + 3;
    assertShare(c, 'a', 1 / 6, 0.02);
    assertShare(c, 'b', 2 / 6, 0.02);
    assertShare(c, 'c', 3 / 6, 0.02);
  });

  it('p2c sends clearly less to a member with many requests in flight', () => {
    const b = createBalancer('p2c', { rand: seeded(2) });
    b.setMembers(three);
    // "slow" holds 20 outstanding requests the whole time; the others answer at once.
    for (let i = 0; i < 20; i++) b.onStart('b');
    const c = counts(b, N, (id) => {
      if (id !== 'b') {
        b.onStart(id);
        b.onResult(id, 5, true);
      }
    });
    assert.ok((c.b ?? 0) / N < 0.05, `slow member got ${c.b}`);
    assertShare(c, 'a', 0.5, 0.05);
  });

  it('p2c under sequential traffic shares evenly, even when one member answered slower once', () => {
    // One request at a time: every pick is a tie at 0 in flight. A latency tie-break used to starve "b" for good
    // after its first slower answer (seen end to end: 289 requests to one replica, 1 to the other).
    const b = createBalancer('p2c', { rand: seeded(4) });
    b.setMembers([{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }]);
    const latency: Record<string, number> = { a: 1, b: 2 };
    const c = counts(b, N, (id) => {
      b.onStart(id);
      b.onResult(id, latency[id]!, true);
    });
    assertShare(c, 'a', 0.5, 0.05);
    assertShare(c, 'b', 0.5, 0.05);
  });

  it('peak-EWMA prefers the fast member', () => {
    let now = 0;
    const latency: Record<string, number> = { a: 5, b: 80, c: 40 };
    const b = createBalancer('ewma', { rand: seeded(3), now: () => now });
    b.setMembers(three);
    const c = counts(b, N, (id) => {
      b.onStart(id);
      now += 1;
      b.onResult(id, latency[id]!, true);
    });
    assert.ok((c.a ?? 0) / N > 0.6, `fast member got ${c.a}`);
    assert.ok((c.b ?? 0) < (c.c ?? 0), `slow ${c.b} vs medium ${c.c}`);
  });
});

describe('health and exclude (every strategy)', () => {
  for (const strategy of ['round-robin', 'random', 'weighted', 'p2c', 'ewma', 'ring-hash'] as const) {
    it(`${strategy}: skips unhealthy members, honours exclude, undefined when all usable ones are excluded`, () => {
      const b = createBalancer(strategy, { rand: seeded(4) });
      b.setMembers(three);
      b.setHealthy('b', false);
      for (let i = 0; i < 300; i++) {
        const id = b.pick({ hashKey: `k${i}` });
        assert.ok(id === 'a' || id === 'c', `${strategy} picked ${id}`);
        assert.equal(b.pick({ hashKey: `k${i}`, exclude: new Set(['a']) }), 'c');
      }
      assert.equal(b.pick({ hashKey: 'x', exclude: new Set(['a', 'c']) }), undefined);
      // When no member is healthy the contract's last resort applies: any member rather than nothing.
      b.setHealthy('a', false);
      b.setHealthy('c', false);
      assert.ok(b.pick({ hashKey: 'x' }));
      b.setMembers([]);
      assert.equal(b.pick(), undefined);
    });

    it(`${strategy}: keeps per-member state across setMembers`, () => {
      const b = createBalancer(strategy, { rand: seeded(5) });
      b.setMembers(three);
      b.setHealthy('a', false);
      b.setMembers([...three, { id: 'd', weight: 1 }]);
      for (let i = 0; i < 100; i++) assert.notEqual(b.pick({ hashKey: `k${i}` }), 'a');
    });
  }

  it('round-robin moves past a member that becomes unhealthy without skipping the next one', () => {
    const b = createBalancer('round-robin');
    b.setMembers(three);
    assert.equal(b.pick(), 'a');
    b.setHealthy('b', false);
    assert.deepEqual([b.pick(), b.pick(), b.pick()], ['c', 'a', 'c']);
  });

  it('p2c and ewma with a single member always pick it', () => {
    for (const s of ['p2c', 'ewma'] as const) {
      const b = createBalancer(s);
      b.setMembers([{ id: 'only', weight: 1 }]);
      assert.equal(b.pick(), 'only');
    }
  });
});

describe('peak-EWMA cost', () => {
  it('jumps to a latency peak at once and decays back with time', () => {
    let now = 0;
    const b = createBalancer('ewma', { now: () => now, decayMs: 10_000 }) as EwmaBalancer;
    b.setMembers([{ id: 'a', weight: 1 }]);
    b.onStart('a');
    b.onResult('a', 10, true);
    now += 100;
    b.onStart('a');
    b.onResult('a', 500, true);
    assert.ok(b.score('a')! > 490);
    now += 10_000;
    // One time constant later the idle estimate is ~1/e of the peak.
    assert.ok(Math.abs(b.score('a')! - 500 / Math.E) < 5, String(b.score('a')));
  });

  it('penalises a newcomer with requests out and no answer yet', () => {
    const b = createBalancer('ewma', { rand: seeded(6), now: () => 0 }) as EwmaBalancer;
    b.setMembers([
      { id: 'old', weight: 1 },
      { id: 'new', weight: 1 },
    ]);
    b.onStart('old');
    b.onResult('old', 200, true);
    b.onStart('new');
    assert.ok(b.score('new')! > b.score('old')!);
    for (let i = 0; i < 50; i++) assert.equal(b.pick(), 'old');
  });

  it('counts a fast failure as slow', () => {
    const b = createBalancer('ewma', { now: () => 0 }) as EwmaBalancer;
    b.setMembers([{ id: 'a', weight: 1 }]);
    b.onStart('a');
    b.onResult('a', 20, true);
    b.onStart('a');
    b.onResult('a', 1, false);
    assert.ok(b.score('a')! >= 40);
  });
});
