// Tasks on other nodes: container events derived from the task list (pure), and the daemon announcing them on its event
// stream (fake engine + fake swarm, a task placed on another node). No multi-node swarm runs here (docs/swarm.md).

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DaemonClient } from '../../cli/daemon-client.ts';
import type { UpRequest } from '../api/control.ts';
import type { DaemonEvent } from '../api/events.ts';
import { resolveHome } from '../api/home.ts';
import type { SwarmTaskInfo, SwarmTaskState } from '../api/swarm-engine.ts';
import { startDaemon } from '../daemon.ts';
import { FakeEngine } from '../engine/fake-engine.ts';
import { FakeSwarm } from '../engine/fake-swarm.ts';
import { project, svc } from '../reconcile/testing.ts';
import { eventually } from '../../test/helpers/eventually.ts';
import { freePort } from '../../test/helpers/free-port.ts';
import { type ListedTask, RemoteTaskEvents } from './remote-task-events.ts';

const task = (id: string, state: SwarmTaskState, over: Partial<SwarmTaskInfo> = {}): ListedTask => ({
  task: { id, serviceId: 's1', slot: 1, nodeId: 'node-b', state, desiredState: 'running', message: '', containerId: `c-${id}`, labels: {}, ports: [], image: 'sha256:x', ...over },
  service: 'web',
  serviceName: 'shop_web',
});
const brief = (events: DaemonEvent[]) => events.map((e) => (e.type === 'container' ? `${e.action} ${e.container}${e.exitCode === undefined ? '' : ` ${e.exitCode}`}` : e.type));

test('remote tasks: the first listing is a baseline; then each change of a task elsewhere is the container event it stands for', () => {
  const r = new RemoteTaskEvents();
  const self = 'node-a';
  assert.deepEqual(r.next('shop', [task('t1', 'running')], self, 1), [], 'a restarted daemon adopts: no news');
  assert.deepEqual(brief(r.next('shop', [task('t1', 'running'), task('t2', 'preparing')], self, 2)), ['created c-t2']);
  assert.deepEqual(brief(r.next('shop', [task('t1', 'running'), task('t2', 'running')], self, 3)), ['started c-t2']);
  const failed = task('t1', 'failed', { message: 'task: non-zero exit (137)', desiredState: 'shutdown' });
  assert.deepEqual(brief(r.next('shop', [failed, task('t2', 'running'), task('t3', 'running', { slot: 1 })], self, 4)), ['died c-t1 137', 'created c-t3', 'started c-t3']);
  const stopped = task('t2', 'shutdown', { desiredState: 'shutdown' });
  assert.deepEqual(brief(r.next('shop', [failed, stopped, task('t3', 'running')], self, 5)), ['stopped c-t2']);
  assert.deepEqual(brief(r.next('shop', [failed, stopped], self, 6)), ['removed c-t3'], 'gone from the list (service or history)');
  // Tasks on this node are the local stream's: never announced from the list.
  assert.deepEqual(r.next('shop', [failed, stopped, task('t4', 'running', { nodeId: self })], self, 7), []);
  const ev = r.next('shop', [failed, stopped, task('t4', 'running', { nodeId: self }), task('t5', 'complete', { containerId: 'c-t5' })], self, 8);
  assert.deepEqual(brief(ev), ['created c-t5', 'started c-t5', 'died c-t5 0'], 'born and ended between two listings');
  assert.deepEqual(ev[0], { type: 'container', action: 'created', time: 8, project: 'shop', service: 'web', replica: 1, container: 'c-t5', name: 'shop_web.1.t5' });
  // A rejected task never had a container; the tasks gone from the list were removed (t4 is this node's).
  assert.deepEqual(brief(r.next('shop', [task('t6', 'rejected', { containerId: undefined, message: 'No such image' })], self, 9)), [
    'created t6',
    'died t6',
    'removed c-t1',
    'removed c-t2',
    'removed c-t5',
  ]);
  r.forget('shop');
  assert.equal(r.has('shop'), false);
});

test('the daemon announces a task dying on another node from the task list, once, beside this node’s own events', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-swarm-remote-'));
  const engine = new FakeEngine({ now: Date.now });
  const imageId = engine.addImage('example/web:1').id;
  const shop = project('shop', [svc('web', { replicas: 2, ports: [{ target: 8080, published: await freePort(), protocol: 'tcp' }] })]);
  const swarm = new FakeSwarm({ images: [imageId] });
  const daemon = await startDaemon({ home: resolveHome({ CMESH_HOME: dir }), engine, swarm, version: 'test', resyncMs: 60_000, reconnect: { initialMs: 20, maxMs: 100 } });
  const client = new DaemonClient({ home: daemon.home, env: {}, stderr: { write: () => true }, autoStart: false });
  const stream = new AbortController();
  const events: DaemonEvent[] = [];
  try {
    void (async () => {
      for await (const e of client.stream<DaemonEvent>('GET', '/v1/events', undefined, stream.signal)) events.push(e);
    })().catch(() => undefined);
    await eventually(() => daemon.bus.stats().subscribers > 0, 'the event stream subscribed', 3000);
    const up: UpRequest = { project: shop, services: [], build: 'never', wait: false, target: 'swarm' };
    await client.operation('/v1/projects/shop/up', up, () => {});
    const containers = () => events.filter((e): e is Extract<DaemonEvent, { type: 'container' }> => e.type === 'container');
    await eventually(() => containers().filter((e) => e.action === 'started').length === 2, 'both tasks started (this node’s stream)');

    const [away] = (await swarm.listTasks({ 'dev.cmesh.project': 'shop' })).filter((t) => t.slot === 1);
    swarm.placeTask(away!.id, { id: 'node-b', hostname: 'worker-b', addr: '10.0.0.7' });
    await new Promise((resolve) => setTimeout(resolve, 1500)); // an observer pass sees the move: no news
    swarm.failTask(away!.id);
    await eventually(() => containers().some((e) => e.container === away!.containerId && e.action === 'died'), 'the remote task’s died event', 5000);
    await eventually(() => containers().filter((e) => e.action === 'started' && e.replica === 1).length === 2, 'its replacement started (here)');
    await new Promise((resolve) => setTimeout(resolve, 1200)); // one more pass: nothing repeats
    const ofAway = containers().filter((e) => e.container === away!.containerId);
    assert.deepEqual(ofAway.map((e) => [e.action, e.exitCode, e.replica, e.name]), [
      ['created', undefined, 1, `shop_web.1.${away!.id}`],
      ['started', undefined, 1, `shop_web.1.${away!.id}`],
      ['died', 137, 1, `shop_web.1.${away!.id}`],
    ]);
  } finally {
    stream.abort();
    await daemon.close();
    await rm(dir, { recursive: true, force: true });
  }
});
