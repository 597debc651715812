// Ring-hash: stickiness per key, spill-over on ill health, and the ≈1/N remapping bound when a member leaves.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RingHashBalancer } from './ring-hash.ts';

const members = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `web#${i + 1}`, weight: 1 }));
const keys = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);

function mapping(b: RingHashBalancer): Map<string, string> {
  return new Map(keys.map((k) => [k, b.pick({ hashKey: k })!]));
}

describe('ring-hash', () => {
  it('sends the same key to the same member every time', () => {
    const b = new RingHashBalancer();
    b.setMembers(members(3));
    const first = mapping(b);
    assert.deepEqual(mapping(b), first);
  });

  it('splits keys roughly evenly with 128 points per member', () => {
    const b = new RingHashBalancer();
    b.setMembers(members(3));
    const c = new Map<string, number>();
    for (const id of mapping(b).values()) c.set(id, (c.get(id) ?? 0) + 1);
    for (const n of c.values()) assert.ok(Math.abs(n / keys.length - 1 / 3) < 0.08, `share ${n}`);
  });

  it('moves at most ~1/N of the keys when a member leaves, and only that member’s keys', () => {
    const b = new RingHashBalancer();
    b.setMembers(members(4));
    const before = mapping(b);
    b.setMembers(members(4).filter((m) => m.id !== 'web#3'));
    const after = mapping(b);
    let moved = 0;
    for (const k of keys) {
      if (before.get(k) !== after.get(k)) {
        moved++;
        assert.equal(before.get(k), 'web#3', `key ${k} moved off a member that stayed`);
      }
    }
    assert.ok(moved / keys.length <= 0.25 + 0.05, `moved ${moved}`);
  });

  it('spills an unhealthy member’s keys to others and takes them back when it recovers', () => {
    const b = new RingHashBalancer();
    b.setMembers(members(3));
    const before = mapping(b);
    b.setHealthy('web#2', false);
    const during = mapping(b);
    for (const k of keys) {
      if (before.get(k) !== 'web#2') assert.equal(during.get(k), before.get(k));
      else assert.notEqual(during.get(k), 'web#2');
    }
    b.setHealthy('web#2', true);
    assert.deepEqual(mapping(b), before);
  });

  it('weights scale the share of the ring', () => {
    const b = new RingHashBalancer();
    b.setMembers([
      { id: 'a', weight: 1 },
      { id: 'b', weight: 3 },
    ]);
    let nb = 0;
    for (const id of mapping(b).values()) if (id === 'b') nb++;
    assert.ok(Math.abs(nb / keys.length - 0.75) < 0.06, `b share ${nb}`);
  });

  it('an excluded owner sends the retry to the next member on the ring', () => {
    const b = new RingHashBalancer();
    b.setMembers(members(3));
    const owner = b.pick({ hashKey: 'k' })!;
    const retry = b.pick({ hashKey: 'k', exclude: new Set([owner]) });
    assert.ok(retry && retry !== owner);
  });
});
