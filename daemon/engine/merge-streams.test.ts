// mergeStreams: two engine subscriptions read as one stream that ends, fails and aborts as a whole.

import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { mergeStreams } from './merge-streams.ts';

/** A source that yields `items` spaced by `gapMs`, then waits for its abort (an engine stream never ends on its own). */
function source(items: string[], gapMs: number, opts: { end?: boolean; fail?: Error } = {}) {
  const seen = { aborted: false, finished: false };
  const open = async function* (signal: AbortSignal): AsyncGenerator<string> {
    try {
      for (const item of items) {
        await new Promise((r) => setTimeout(r, gapMs));
        if (signal.aborted) break;
        yield item;
      }
      if (opts.fail) throw opts.fail;
      if (opts.end) return;
      if (!signal.aborted) await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
      seen.aborted = true;
    } finally {
      seen.finished = true;
    }
  };
  return { open, seen };
}

test('yields the items of every source as they come, and aborts them all when the caller aborts', async () => {
  const a = source(['a1', 'a2'], 5);
  const b = source(['b1'], 12);
  const ac = new AbortController();
  const got: string[] = [];
  for await (const item of mergeStreams([a.open, b.open], ac.signal)) {
    got.push(item);
    if (got.length === 3) ac.abort();
  }
  assert.deepEqual([...got].sort(), ['a1', 'a2', 'b1']);
  assert.ok(a.seen.aborted && b.seen.aborted, 'both sources saw the abort');
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
});

test('ends when one source ends (its connection went away), after what it yielded, and stops the other', async () => {
  const a = source(['a1'], 5, { end: true });
  const b = source([], 0);
  const got: string[] = [];
  for await (const item of mergeStreams([a.open, b.open], new AbortController().signal)) got.push(item);
  assert.deepEqual(got, ['a1']);
  assert.ok(b.seen.aborted && b.seen.finished, 'the other source was aborted and finished');
});

test("throws a source's error and stops the other", async () => {
  const a = source(['a1'], 5, { fail: new Error('lost the stream') });
  const b = source([], 0);
  const got: string[] = [];
  await assert.rejects(async () => {
    for await (const item of mergeStreams([a.open, b.open], new AbortController().signal)) got.push(item);
  }, /lost the stream/);
  assert.deepEqual(got, ['a1']);
  assert.ok(b.seen.finished);
});

test('a consumer that stops early aborts every source', async () => {
  const a = source(['a1', 'a2', 'a3'], 2);
  const b = source([], 0);
  for await (const item of mergeStreams([a.open, b.open], new AbortController().signal)) {
    assert.equal(item, 'a1');
    break;
  }
  assert.ok(a.seen.finished && b.seen.aborted);
});
