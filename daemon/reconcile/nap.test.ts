// Nap: an engine change ends the wait early, a change during the look is not lost, aborts reject, dispose unsubscribes.

import assert from 'node:assert/strict';
import test from 'node:test';
import { Nap, type WakeSource } from './nap.ts';

function source(): { wake: WakeSource; fire: (fresh?: boolean) => void; listeners: () => number } {
  const set = new Set<(fresh?: boolean) => void>();
  return {
    wake: (l) => {
      set.add(l);
      return () => set.delete(l);
    },
    fire: (fresh) => {
      for (const l of set) l(fresh);
    },
    listeners: () => set.size,
  };
}

test('a change ends the nap after the settle delay, not the poll', async () => {
  const s = source();
  const nap = new Nap(s.wake, 5);
  nap.look();
  const t0 = performance.now();
  const sleeping = nap.sleep(5000);
  setTimeout(s.fire, 20);
  await sleeping;
  const took = performance.now() - t0;
  assert.ok(took >= 20 && took < 1000, `woke after ${took} ms`);
  nap.dispose();
});

test('a change that came while looking makes the next nap short', async () => {
  const s = source();
  const nap = new Nap(s.wake, 5);
  nap.look();
  s.fire();
  const t0 = performance.now();
  await nap.sleep(5000);
  assert.ok(performance.now() - t0 < 1000);
  // look() forgets it: without a new change the nap runs its full length.
  nap.look();
  const t1 = performance.now();
  await nap.sleep(60);
  assert.ok(performance.now() - t1 >= 55);
  nap.dispose();
});

test('a fresh change (cmesh state, such as a probe pass) ends the nap without the settle delay', async () => {
  const s = source();
  const nap = new Nap(s.wake, 400);
  nap.look();
  const sleeping = nap.sleep(5000);
  const t0 = performance.now();
  s.fire(true);
  await sleeping;
  assert.ok(performance.now() - t0 < 200, `woke after ${performance.now() - t0} ms`);
  // One that came during the look: the next nap returns at once too, while an engine change still settles.
  nap.look();
  s.fire(true);
  const t1 = performance.now();
  await nap.sleep(5000);
  assert.ok(performance.now() - t1 < 200);
  nap.look();
  s.fire();
  const t2 = performance.now();
  await nap.sleep(5000);
  assert.ok(performance.now() - t2 >= 390, `an engine change settled only ${performance.now() - t2} ms`);
  nap.dispose();
});

test('without a source the nap is a plain timer; abort rejects', async () => {
  const nap = new Nap(undefined);
  const t0 = performance.now();
  await nap.sleep(40);
  assert.ok(performance.now() - t0 >= 35);
  const ac = new AbortController();
  const sleeping = nap.sleep(5000, ac.signal);
  ac.abort(new Error('stop'));
  await assert.rejects(sleeping, /stop/);
  await assert.rejects(nap.sleep(10, ac.signal), /stop/);
});

test('dispose unsubscribes from the source', () => {
  const s = source();
  const nap = new Nap(s.wake);
  assert.equal(s.listeners(), 1);
  nap.dispose();
  assert.equal(s.listeners(), 0);
});
