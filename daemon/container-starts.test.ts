// ContainerStarts: a start is dated when the daemon receives it; an ended run, a removal or a dropped event stream
// (a restart may have gone unseen) makes it unknown again.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EngineEvent } from './api/engine.ts';
import { ContainerStarts } from './container-starts.ts';

const event = (action: string, id = 'c1', type: EngineEvent['type'] = 'container'): EngineEvent => ({ type, action, id, labels: {}, time: 5 });

test('ContainerStarts: dated at receipt, forgotten when the run ends, the container goes or the stream drops', () => {
  let now = 1_000;
  const starts = new ContainerStarts(() => now);
  assert.equal(starts.runningSince('c1'), undefined, 'a start this daemon did not see is unknown');
  starts.see(event('start'));
  assert.equal(starts.runningSince('c1'), 1_000, 'the receipt time, not the engine timestamp (5)');
  now = 2_000;
  starts.see(event('exec_start: true'));
  starts.see(event('health_status: healthy'));
  starts.see(event('start', 'n1', 'network'));
  assert.equal(starts.runningSince('c1'), 1_000, 'other actions and types change nothing');
  for (const ended of ['die', 'kill', 'oom', 'stop', 'destroy']) {
    starts.see(event('start'));
    starts.see(event(ended));
    assert.equal(starts.runningSince('c1'), undefined, ended);
  }
  starts.see(event('start'));
  starts.see(event('start', 'c2'));
  starts.forgetAll();
  assert.deepEqual([starts.runningSince('c1'), starts.runningSince('c2')], [undefined, undefined]);
});
