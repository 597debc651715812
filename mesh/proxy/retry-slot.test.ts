// RetrySlot: a slot is held for one attempt, given back when that attempt ends or the exchange does, never twice.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newStats } from './context.ts';
import { RetryBudget } from './retry.ts';
import { RetrySlot } from './retry-slot.ts';

describe('RetrySlot', () => {
  it('holds a slot for the retry attempt only, and gives it back once', () => {
    const budget = new RetryBudget(0.2, 1, 0);
    const stats = newStats();
    const slot = new RetrySlot(budget, stats);
    assert.equal(slot.tryTake(2), true);
    assert.equal(budget.retrying, 1);
    assert.equal(slot.isHeldFor(2), true);
    slot.attemptEnded(1);
    assert.equal(budget.retrying, 1, 'another attempt ending does not free it');
    slot.attemptEnded(2);
    assert.equal(budget.retrying, 0);
    slot.attemptEnded(2);
    slot.release();
    assert.equal(budget.retrying, 0, 'never given back twice');
  });

  it('a full budget refuses and counts the exhaustion, now or after the wait', async () => {
    const budget = new RetryBudget(0.2, 1, 20);
    const stats = newStats();
    const other = new RetrySlot(budget, stats);
    assert.equal(other.tryTake(2), true);
    const slot = new RetrySlot(budget, stats);
    assert.equal(slot.tryTake(2), false);
    assert.equal(stats.budgetExhausted, 1);
    const granted = await new Promise<boolean>((resolve) => slot.take(3, resolve));
    assert.equal(granted, false);
    assert.equal(stats.budgetExhausted, 2);
    assert.equal(slot.isHeldFor(3), false);
  });

  it('a slot freed while waiting is handed over, and release at the exchange end gives it back', async () => {
    const budget = new RetryBudget(0.2, 1, 1000);
    const stats = newStats();
    const other = new RetrySlot(budget, stats);
    assert.equal(other.tryTake(2), true);
    const slot = new RetrySlot(budget, stats);
    const granted = new Promise<boolean>((resolve) => slot.take(3, resolve));
    other.attemptEnded(2);
    assert.equal(await granted, true);
    assert.equal(slot.isHeldFor(3), true);
    assert.equal(budget.retrying, 1);
    slot.release();
    assert.equal(budget.retrying, 0);
    assert.equal(stats.budgetExhausted, 0);
  });

  it('retry: goes at once on a held slot, waits for a granted one, refuses when none comes, and gives back a slot the exchange no longer wants', () => {
    const budget = new RetryBudget(0.2, 1, 0);
    const stats = newStats();
    const slot = new RetrySlot(budget, stats);
    const seen: string[] = [];
    const go = (): number => seen.push('go');
    const refused = (): number => seen.push('refused');
    slot.retry(2, go, refused, () => false);
    assert.deepEqual(seen, ['go']);
    assert.equal(budget.retrying, 1);
    slot.retry(2, go, refused, () => false);
    assert.deepEqual(seen, ['go', 'go'], 'the slot already covers attempt 2: no second one is taken');
    assert.equal(budget.retrying, 1);
    slot.retry(3, go, refused, () => false);
    assert.deepEqual(seen, ['go', 'go', 'refused'], 'a full budget (minConcurrent 1, no wait) refuses');
    assert.equal(stats.budgetExhausted, 1);
    slot.attemptEnded(2);
    slot.retry(3, go, refused, () => true);
    assert.deepEqual(seen, ['go', 'go', 'refused'], 'granted after the exchange ended: nothing runs');
    assert.equal(budget.retrying, 0, 'and the slot went straight back');
  });
});
