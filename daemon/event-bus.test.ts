// EventBus: fan-out with filters, bounded per-subscriber buffers (drop oldest + count), clean unsubscribe.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DaemonEvent } from './api/events.ts';
import { EventBus } from './event-bus.ts';

function ev(project: string, n: number): DaemonEvent {
  return { type: 'project', action: 'up', project, time: n };
}

test('every subscriber gets matching events in order', async () => {
  const bus = new EventBus();
  const all = bus.subscribe();
  const shop = bus.subscribe({ filter: (e) => e.project === 'shop' });
  bus.publish(ev('shop', 1));
  bus.publish(ev('blog', 2));
  bus.publish(ev('shop', 3));
  assert.deepEqual(all.drain().map((e) => e.time), [1, 2, 3]);
  const it = shop[Symbol.asyncIterator]();
  assert.equal((await it.next()).value?.time, 1);
  assert.equal((await it.next()).value?.time, 3);
});

test('a waiting reader is handed the next event directly', async () => {
  const bus = new EventBus();
  const sub = bus.subscribe();
  const next = sub[Symbol.asyncIterator]().next();
  bus.publish(ev('a', 7));
  assert.equal((await next).value?.time, 7);
});

test('a slow subscriber keeps at most `limit` events, drops the oldest and counts them', () => {
  const bus = new EventBus();
  const slow = bus.subscribe({ limit: 10 });
  const fast = bus.subscribe({ limit: 10_000 });
  for (let i = 0; i < 5000; i++) bus.publish(ev('p', i));
  assert.equal(slow.dropped, 4990);
  assert.deepEqual(slow.drain().map((e) => e.time), [4990, 4991, 4992, 4993, 4994, 4995, 4996, 4997, 4998, 4999]);
  assert.equal(fast.dropped, 0);
  assert.equal(fast.drain().length, 5000);
  assert.equal(bus.stats().dropped, 4990);
});

test('close and abort end iteration and unsubscribe', async () => {
  const bus = new EventBus();
  const ac = new AbortController();
  const sub = bus.subscribe({ signal: ac.signal });
  const other = bus.subscribe();
  assert.equal(bus.stats().subscribers, 2);
  const pending = sub[Symbol.asyncIterator]().next();
  ac.abort();
  assert.equal((await pending).done, true);
  other.close();
  assert.equal(bus.stats().subscribers, 0);
  bus.publish(ev('p', 1)); // nobody left: must not throw or buffer
  assert.equal(bus.subscribe({ signal: AbortSignal.abort() }).drain().length, 0);
  assert.equal(bus.stats().subscribers, 0);
});

test('for-await with break unsubscribes', async () => {
  const bus = new EventBus();
  const sub = bus.subscribe();
  bus.publish(ev('p', 1));
  for await (const _ of sub) break;
  assert.equal(bus.stats().subscribers, 0);
});

test('history: recent(since) replays kept events, bounded, log lines excluded', () => {
  const bus = new EventBus({ historyLimit: 3 });
  for (let n = 1; n <= 5; n++) bus.publish(ev('shop', n));
  bus.publish({ type: 'log', project: 'shop', time: 6, service: 'web', replica: 1, stream: 'stdout', text: 'x' });
  assert.deepEqual(bus.recent(0).map((e) => e.time), [3, 4, 5]);
  assert.deepEqual(bus.recent(4).map((e) => e.time), [4, 5]);
  assert.deepEqual(bus.recent(0, (e) => e.project === 'other'), []);
});
