// RestartAnnouncements: which deferred restarts of a plan are news.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeferredRestart } from './plan-types.ts';
import { RestartAnnouncements } from './restart-announcements.ts';
import { NOW } from './testing.ts';

function deferral(replica: number, attempt: number, notBefore: number, id = `c-web-${replica}`): DeferredRestart {
  return {
    target: { id, name: `demo-web-${replica}`, service: 'web', replica },
    attempt,
    delayMs: 1_000 * 2 ** (attempt - 1),
    notBefore,
    reason: 'exited with code 1',
  };
}

const replicas = (list: DeferredRestart[]): string[] => list.map((d) => `${d.target.replica}@${d.attempt}`);

test('the same scheduled restart is news once, however many plans list it', () => {
  const a = new RestartAnnouncements();
  const d = deferral(1, 1, NOW + 1_000);
  assert.deepEqual(replicas(a.fresh({ now: NOW, deferred: [d] })), ['1@1']);
  assert.deepEqual(a.fresh({ now: NOW + 300, deferred: [d] }), []);
  assert.deepEqual(a.fresh({ now: NOW + 600, deferred: [] }), [], 'a plan without it forgets nothing');
  assert.deepEqual(a.fresh({ now: NOW + 900, deferred: [d] }), []);
});

test('a new attempt, a new due time or a new container is a new scheduled restart', () => {
  const a = new RestartAnnouncements();
  a.fresh({ now: NOW, deferred: [deferral(1, 1, NOW + 1_000), deferral(2, 1, NOW + 1_000)] });
  assert.deepEqual(replicas(a.fresh({ now: NOW + 1_500, deferred: [deferral(1, 2, NOW + 3_000)] })), ['1@2']);
  assert.deepEqual(replicas(a.fresh({ now: NOW + 1_500, deferred: [deferral(2, 1, NOW + 2_000)] })), ['2@1']);
  assert.deepEqual(replicas(a.fresh({ now: NOW + 1_600, deferred: [deferral(2, 1, NOW + 2_000, 'c-web-2-new')] })), ['2@1']);
});

test('clear() (after down) makes every pending restart news again', () => {
  const a = new RestartAnnouncements();
  const d = deferral(1, 1, NOW + 1_000);
  a.fresh({ now: NOW, deferred: [d] });
  a.clear();
  assert.deepEqual(replicas(a.fresh({ now: NOW, deferred: [d] })), ['1@1']);
});
