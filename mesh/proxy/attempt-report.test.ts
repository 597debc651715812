// What the proxy reports to `onAttempt` (the daemon's connect-error and retry counters): every failed attempt and
// every attempt after the first, never a first attempt that answered (the request metrics count those requests).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AttemptStats } from './context.ts';
import { TestPool, freePort, startProxy, startUpstream } from './testing.ts';

async function get(url: string): Promise<number> {
  const r = await fetch(url);
  await r.arrayBuffer();
  return r.status;
}

test('a first attempt that answered is not reported; a failed one and the failover after it are', async () => {
  const live = await startUpstream('web#2');
  // Nothing listens here: the attempt fails to connect, and the proxy fails over to the live replica.
  const dead = { id: 'web#1', host: '127.0.0.1', port: await freePort() };
  const pool = new TestPool('web', [dead, live.upstream]);
  const reports: AttemptStats[] = [];
  const p = await startProxy(pool, undefined, { onAttempt: (s) => reports.push(s) });
  try {
    assert.equal(await get(`${p.url}/a`), 200);
    assert.deepEqual(
      reports.map((s) => [s.upstream, s.attempt, s.outcome, s.next]),
      [
        ['web#1', 1, 'connect-error', 'failover'],
        ['web#2', 2, 'ok', undefined],
      ],
    );
    reports.length = 0;
    pool.down.add('web#1');
    for (let i = 0; i < 3; i++) assert.equal(await get(`${p.url}/b${i}`), 200);
    assert.deepEqual(reports, [], 'three requests answered at their first attempt: nothing to report');
    assert.equal(pool.results.length, 5, 'the pool still hears every attempt (balancer and health)');
  } finally {
    await p.close();
    await live.close();
  }
});
