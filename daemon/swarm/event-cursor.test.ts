// Replaying what an event stream drop missed: the cursor's resume point and dedupe (pure), and the daemon's swarm event
// feed across a dropped engine stream (fake swarm): what happened while it was down is announced once, nothing twice.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DaemonEvent } from '../api/events.ts';
import type { SwarmEvent, SwarmServiceSpec } from '../api/swarm-engine.ts';
import { FakeSwarm } from '../engine/fake-swarm.ts';
import { eventually } from '../../test/helpers/eventually.ts';
import { EventCursor } from './event-cursor.ts';
import { SwarmEventFeed } from './swarm-event-feed.ts';

const ev = (action: string, time: number, id = 'c1'): SwarmEvent => ({ kind: 'task', action, id, attributes: { n: id }, time });

test('the cursor resumes from the last delivered event and skips the repeats of that millisecond only', () => {
  let clock = 1000;
  const cursor = new EventCursor(() => clock);
  assert.equal(cursor.since(), 1000, 'the first subscription asks from its own start');
  clock = 1500;
  assert.equal(cursor.since(), 1000, 'no event yet: still from the first start');
  assert.deepEqual([ev('create', 1200), ev('start', 1300), ev('die', 1300)].map((e) => cursor.admit(e)), [true, true, true]);
  assert.equal(cursor.since(), 1300);
  // The replay from 1300 repeats both events of that ms, then brings what the drop missed (one of them in that ms too).
  const replay = [ev('start', 1300), ev('die', 1300), ev('start', 1300, 'c2'), ev('destroy', 1400)];
  assert.deepEqual(replay.map((e) => cursor.admit(e)), [false, false, true, true]);
  assert.equal(cursor.since(), 1400);
  assert.equal(cursor.admit(ev('destroy', 1400)), false);
  assert.equal(cursor.admit(ev('create', 1399, 'c3')), true, 'a live event behind the cursor (a clock step) is kept, not dropped');
});

const imageId = `sha256:${'cd'.repeat(32)}`;
const labels = { 'dev.cmesh.managed': 'true', 'dev.cmesh.project': 'shop', 'dev.cmesh.service': 'web', 'dev.cmesh.target': 'swarm' };
const spec = (env: string): SwarmServiceSpec => ({
  Name: 'shop_web',
  Labels: labels,
  TaskTemplate: { ContainerSpec: { Image: imageId, Labels: labels, Env: [env] }, RestartPolicy: { Condition: 'any' }, Networks: [] },
  Mode: { Replicated: { Replicas: 2 } },
  UpdateConfig: { Parallelism: 1, Order: 'start-first', FailureAction: 'rollback' },
  EndpointSpec: { Mode: 'vip', Ports: [] },
});

test('the feed replays what happened while its engine streams were down, once, and repeats nothing from before', async () => {
  const swarm = new FakeSwarm({ images: [imageId] });
  const out: DaemonEvent[] = [];
  const feed = new SwarmEventFeed({ swarm, emit: (e) => out.push(e), wants: (p) => p === 'shop', reconnect: { initialMs: 50, maxMs: 100 } });
  const line = (e: DaemonEvent) => (e.type === 'container' ? `${e.action} ${e.container}` : e.type === 'rollout' ? `rollout ${e.phase}` : e.type);
  try {
    feed.start();
    await eventually(() => swarm.calls.filter((c) => c.method === 'events').length === 2, 'both streams subscribed', 2000);
    const created = await swarm.createService(spec('V=1'));
    await eventually(() => out.length === 4, 'the 2 tasks created and started', 2000);
    const before = out.map(line);

    // Both streams drop; while they are down a task dies and is replaced, and a rollout runs.
    swarm.dropEventStreams();
    const [victim] = await swarm.listTasks(labels);
    swarm.failTask(victim!.id);
    await swarm.updateService(created.id, created.version, spec('V=2'));
    const missed = out.length;
    assert.equal(missed, 4, 'nothing arrives while the streams are down');

    await eventually(() => out.some((e) => e.type === 'rollout' && e.phase === 'done'), 'the missed rollout, replayed', 3000);
    await eventually(() => out.filter((e) => e.type === 'container' && e.action === 'started').length === 5, 'the missed starts, replayed', 3000);
    const after = out.slice(4).map(line);
    assert.deepEqual(out.slice(0, 4).map(line), before);
    assert.equal(new Set(out.map(line)).size, out.length, `no event twice: ${out.map(line)}`);
    assert.ok(after.includes(`died ${victim!.containerId}`), after.join(', '));
    assert.deepEqual(after.filter((l) => l.startsWith('rollout')), ['rollout start', 'rollout done']);
    // 1 replacement + 2 tasks of the new spec, each created and started; 3 died (the victim, then the 2 retired).
    assert.deepEqual(['created', 'started', 'died'].map((a) => after.filter((l) => l.startsWith(`${a} `)).length), [3, 3, 3]);
    const resumed = swarm.calls.filter((c) => c.method === 'events').slice(2);
    assert.ok(resumed.length >= 2 && resumed.every((c) => typeof c.args[2] === 'number'), 'the resubscriptions ask from a time');
  } finally {
    feed.close();
  }
});
