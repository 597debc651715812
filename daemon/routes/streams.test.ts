// Stream pacing: a slow reader makes the daemon wait for 'drain', and every wait cleans up after itself.

import assert from 'node:assert/strict';
import { EventEmitter, getEventListeners } from 'node:events';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { writePaced } from './streams.ts';

/** A response whose socket buffer is always full: every write says "wait for drain". */
class FullResponse extends EventEmitter {
  destroyed = false;
  writableEnded = false;
  lines = 0;
  write(): boolean {
    this.lines++;
    return false;
  }
}

test('writePaced: a thousand full-buffer waits on one stream leave no listener on the signal or the response', async () => {
  const res = new FullResponse();
  const ac = new AbortController();
  for (let i = 0; i < 1000; i++) {
    const wrote = writePaced(res as unknown as ServerResponse, { i }, ac.signal);
    // The client reads: the buffer drains; the write resolves only then.
    setImmediate(() => res.emit('drain'));
    await wrote;
  }
  assert.equal(res.lines, 1000);
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0, 'abort listeners left on the request signal');
  for (const name of ['drain', 'close', 'error']) assert.equal(res.listenerCount(name), 0, `${name} listeners left on the response`);
});

test('writePaced: the client leaving ends a wait for drain', async () => {
  const res = new FullResponse();
  const ac = new AbortController();
  const wrote = writePaced(res as unknown as ServerResponse, { i: 0 }, ac.signal);
  setImmediate(() => ac.abort());
  await wrote;
  assert.equal(res.listenerCount('drain'), 0);
  // Already gone: nothing to wait for.
  await writePaced(res as unknown as ServerResponse, { i: 1 }, ac.signal);
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
});
