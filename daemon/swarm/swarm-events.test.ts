// `cmesh events` on the swarm target: the pure mapping of the swarm's engine events, and the real daemon's event
// stream (control API, fake engine + fake swarm) carrying task lifecycle, rollouts, scale and stop/start.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DaemonClient } from '../../cli/daemon-client.ts';
import { describeEvent } from '../../cli/event-text.ts';
import { colorsFor } from '../../cli/output.ts';
import type { UpRequest } from '../api/control.ts';
import type { DaemonEvent } from '../api/events.ts';
import { resolveHome } from '../api/home.ts';
import type { SwarmEvent, SwarmServiceSpec } from '../api/swarm-engine.ts';
import { type RunningDaemon, startDaemon } from '../daemon.ts';
import { FakeEngine } from '../engine/fake-engine.ts';
import { FakeSwarm } from '../engine/fake-swarm.ts';
import { project, svc } from '../reconcile/testing.ts';
import { eventually } from '../../test/helpers/eventually.ts';
import { freePort } from '../../test/helpers/free-port.ts';
import { serviceDaemonEvent, taskDaemonEvent } from './swarm-events.ts';

const taskLabels = { 'dev.cmesh.project': 'shop', 'dev.cmesh.service': 'web', 'dev.cmesh.target': 'swarm', 'com.docker.swarm.task.name': 'shop_web.2.tsk9' };
const task = (action: string, extra: Record<string, string> = {}): SwarmEvent => ({ kind: 'task', action, id: 'c0ffee', attributes: { ...taskLabels, ...extra }, time: 5 });

test('a task container’s engine events become container and health events of its project, replica = the task slot', () => {
  const base = { time: 5, project: 'shop', service: 'web', replica: 2, container: 'c0ffee', name: 'shop_web.2.tsk9' };
  assert.deepEqual(taskDaemonEvent(task('create')), { type: 'container', action: 'created', ...base });
  assert.deepEqual(taskDaemonEvent(task('start')), { type: 'container', action: 'started', ...base });
  assert.deepEqual(taskDaemonEvent(task('die', { exitCode: '137' })), { type: 'container', action: 'died', ...base, exitCode: 137 });
  assert.deepEqual(taskDaemonEvent(task('destroy')), { type: 'container', action: 'removed', ...base });
  assert.deepEqual(taskDaemonEvent(task('health_status: unhealthy')), {
    type: 'health', time: 5, project: 'shop', service: 'web', replica: 2, source: 'engine', healthy: false, reason: 'healthcheck unhealthy',
  });
  assert.equal(taskDaemonEvent(task('exec_start: wget -q')), undefined);
  assert.equal(taskDaemonEvent({ ...task('start'), attributes: { 'com.docker.swarm.task.name': 'x_y.1.t' } }), undefined, 'not a cmesh task');
  assert.equal(taskDaemonEvent({ ...task('start'), attributes: { ...taskLabels, 'com.docker.swarm.task.name': 'garbled' } }), undefined, 'no slot');
});

test('a service update moving Swarm’s update state becomes a rollout event; anything else, or a foreign service, none', () => {
  const owner = { project: 'shop', service: 'web' };
  const update = (state: string): SwarmEvent => ({ kind: 'service', action: 'update', id: 's1', attributes: { name: 'shop_web', 'updatestate.new': state }, time: 7 });
  const phase = (state: string) => (serviceDaemonEvent(update(state), owner) as Extract<DaemonEvent, { type: 'rollout' }> | undefined)?.phase;
  assert.deepEqual(['updating', 'completed', 'rollback_started', 'rollback_completed', 'paused'].map(phase), ['start', 'done', 'progress', 'rolled-back', 'progress']);
  assert.equal(serviceDaemonEvent(update('updating'), undefined), undefined, 'not a cmesh service');
  assert.equal(serviceDaemonEvent({ ...update('updating'), attributes: { name: 'shop_web', 'replicas.new': '2' } }, owner), undefined, 'a scale is no rollout');
  assert.equal(serviceDaemonEvent({ ...update('completed'), action: 'remove' }, owner), undefined);
});

let dir: string;
let swarm: FakeSwarm;
let daemon: RunningDaemon;
let client: DaemonClient;
const events: DaemonEvent[] = [];
const stream = new AbortController();
const shop = project('shop', [svc('web', { replicas: 2, ports: [{ target: 8080, published: 0, protocol: 'tcp' }] })]);
const upBody = (over: Partial<UpRequest> = {}): UpRequest => ({ project: shop, services: [], build: 'never', wait: false, target: 'swarm', ...over });
const of = <T extends DaemonEvent['type']>(type: T) => events.filter((e): e is Extract<DaemonEvent, { type: T }> => e.type === type);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-swarm-events-'));
  const engine = new FakeEngine({ now: Date.now });
  const imageId = engine.addImage('example/web:1').id;
  // A port free right now: the daemon refuses to publish a port something on this host already holds.
  shop.services['web']!.ports[0]!.published = await freePort();
  swarm = new FakeSwarm({ images: [imageId] });
  daemon = await startDaemon({ home: resolveHome({ CMESH_HOME: dir }), engine, swarm, version: 'test', resyncMs: 60_000, reconnect: { initialMs: 20, maxMs: 100 } });
  client = new DaemonClient({ home: daemon.home, env: {}, stderr: { write: () => true }, autoStart: false });
  void (async () => {
    for await (const e of client.stream<DaemonEvent>('GET', '/v1/events', undefined, stream.signal)) events.push(e);
  })().catch(() => undefined);
  await eventually(() => daemon.bus.stats().subscribers > 0, 'the event stream subscribed', 3000);
});

after(async () => {
  stream.abort();
  await daemon?.close();
  await rm(dir, { recursive: true, force: true });
});

test('events of a swarm project: task starts, a killed task and its replacement, a rollout, scale, stop and start', async () => {
  await client.operation('/v1/projects/shop/up', upBody(), () => {});
  // A service of another project on the same swarm: its tasks never show up in this daemon's stream.
  const foreign = structuredClone(swarm.calls.find((c) => c.method === 'createService')!.args[0] as SwarmServiceSpec);
  const otherLabels = { 'dev.cmesh.project': 'other', 'dev.cmesh.service': 'web', 'dev.cmesh.target': 'swarm' };
  foreign.TaskTemplate.ContainerSpec.Labels = otherLabels;
  await swarm.createService({ ...foreign, Name: 'other_web', Labels: otherLabels });
  const [victim] = (await swarm.listTasks({ 'dev.cmesh.project': 'shop' })).filter((t) => t.desiredState === 'running');
  swarm.failTask(victim!.id);
  await eventually(() => of('container').some((e) => e.action === 'died'), 'the killed task’s died event', 3000);
  const died = of('container').find((e) => e.action === 'died')!;
  assert.deepEqual([died.service, died.replica, died.container, died.exitCode], ['web', victim!.slot, victim!.containerId, 137]);
  await eventually(() => of('container').filter((e) => e.action === 'started' && e.replica === victim!.slot).length === 2, 'the replacement started in the same slot');

  const changed = structuredClone(shop);
  changed.services['web']!.environment = { VERSION: '2' };
  await client.operation('/v1/projects/shop/up', upBody({ project: changed }), () => {});
  await eventually(() => of('rollout').length === 2, 'the rollout start and done');
  assert.deepEqual(of('rollout').map((e) => [e.service, e.phase]), [['web', 'start'], ['web', 'done']]);

  await client.request('POST', '/v1/projects/shop/scale', { services: { web: 3 } });
  await client.request('POST', '/v1/projects/shop/stop', { services: ['web'] });
  await client.request('POST', '/v1/projects/shop/start', { services: ['web'] });
  await eventually(() => of('project').some((e) => e.action === 'started'), 'the start announced');
  assert.deepEqual(of('project').map((e) => e.action), ['up', 'up', 'scaled', 'stopped', 'started']);
  assert.ok(events.every((e) => e.project === 'shop' || e.project === ''), `only this daemon’s project: ${[...new Set(events.map((e) => e.project))]}`);
  assert.ok(!of('rollout').some((e) => e.phase !== 'start' && e.phase !== 'done'), 'a scale is no rollout');

  // The same one-liners as on the local target (`cmesh events` without --json).
  const text = describeEvent(died, colorsFor({ write: () => true, isTTY: false }, { env: { NO_COLOR: '1' } }), true);
  assert.equal(text, `Container ${died.name}  Died (exit 137)`);
  assert.match(died.name, /^shop_web\.\d\.\w+$/);
});
