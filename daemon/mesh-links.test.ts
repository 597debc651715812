// ReplicaLinks: which network a replica is reached on, and how long a stale "running" list is read as paused.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Labels } from './api/labels.ts';
import { PAUSE_LIST_LAG_MS, ReplicaLinks } from './mesh-links.ts';
import { ctr, desired, project, svc } from './reconcile/testing.ts';

const d = desired(project('links', [svc('web', { replicas: 2 })]));

test('a pause the engine told of outweighs a "running" list until the unpause, the list catching up, or the bound', () => {
  let now = 1_000;
  const links = new ReplicaLinks(() => now);
  const c = ctr(d, 'web', 1);
  assert.equal(links.stateOf(c), 'running');
  links.paused(c.id, true);
  assert.equal(links.stateOf(c), 'paused');
  now += PAUSE_LIST_LAG_MS - 1;
  assert.equal(links.stateOf(c), 'paused');
  now += 1;
  assert.equal(links.stateOf(c), 'running', 'a missed unpause costs at most the bound');
  links.paused(c.id, true);
  assert.equal(links.stateOf({ ...c, state: 'paused' }), 'paused');
  assert.equal(links.stateOf(c), 'running', 'once a list said paused, lists are the truth again');
  links.paused(c.id, true);
  links.paused(c.id, false);
  assert.equal(links.stateOf(c), 'running');
});

test('the project of an observed container, and whether it is reached at its own address on that network', () => {
  const links = new ReplicaLinks();
  const a = { ...ctr(d, 'web', 1), labels: { ...ctr(d, 'web', 1).labels, [Labels.reachNetwork]: 'links_default' } };
  const b = ctr(d, 'web', 2);
  links.observed('links', [a, b]);
  assert.deepEqual(links.find(a.id, 'links_default'), { project: 'links', reachedOn: true });
  assert.deepEqual(links.find(a.id, 'bridge'), { project: 'links', reachedOn: false });
  assert.deepEqual(links.find(b.id, 'links_default'), { project: 'links', reachedOn: false }, 'published: its project only');
  assert.equal(links.find('someone-else', 'links_default'), undefined);
  links.observed('links', [b]);
  assert.equal(links.find(a.id, 'links_default'), undefined, 'gone from the list, forgotten');
  links.observed('links', [a]);
  links.forget('links');
  assert.equal(links.find(a.id, 'links_default'), undefined);
});

test('a pause mark goes with its container: removed while paused (or its project unpublished), it is not kept', () => {
  const now = 1_000;
  const links = new ReplicaLinks(() => now);
  const [a, b] = [ctr(d, 'web', 1), ctr(d, 'web', 2)];
  links.observed('links', [a, b]);
  links.paused(a.id, true);
  links.paused(b.id, true);
  links.observed('links', [b]); // a removed while paused: never listed again
  assert.equal(links.stateOf(a), 'running', 'the mark of a container gone from the project was dropped');
  assert.equal(links.stateOf(b), 'paused');
  links.forget('links');
  assert.equal(links.stateOf(b), 'running', 'an unpublished project drops its marks');
});
