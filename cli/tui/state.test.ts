import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DaemonEvent } from '../../daemon/api/events.ts';
import { handleKey } from './keys.ts';
import { type Action, type DashState, initialState, reduce, SPARK_BUCKETS, selectedRow, visibleRows } from './state.ts';
import { psRows, serviceRow, T0 } from './test-fixtures.ts';

const web = serviceRow('web', 3);
const api = serviceRow('api', 1);
const snap = (time = T0, services = [web, api]): Action => ({ type: 'snapshot', time, services, ps: services.flatMap(psRows) });
const run = (...actions: Action[]): DashState => actions.reduce(reduce, initialState('shop'));
const keys = (state: DashState, ...inputs: (string | 'up' | 'down' | 'enter' | 'esc')[]): DashState => {
  let s = state;
  for (const i of inputs) {
    const key = { upArrow: i === 'up', downArrow: i === 'down', return: i === 'enter', escape: i === 'esc' };
    s = handleKey(s, key.upArrow || key.downArrow || key.return || key.escape ? '' : i, key).actions.reduce(reduce, s);
  }
  return s;
};

test('a snapshot connects and fills the table; the first service is selected by default', () => {
  const s = run({ type: 'connection', state: 'reconnecting', error: 'ECONNREFUSED' }, snap());
  assert.equal(s.connection, 'connected');
  assert.equal(s.connectionError, undefined);
  assert.deepEqual(visibleRows(s).map((r) => r.key), ['web', 'api']);
  assert.equal(selectedRow(s)?.key, 'web');
});

test('enter expands the selected service; ↑/↓ walk services and replicas; collapsing reselects the service', () => {
  let s = keys(run(snap()), 'enter');
  assert.deepEqual(visibleRows(s).map((r) => r.key), ['web', 'web#1', 'web#2', 'web#3', 'api']);
  s = keys(s, 'down', 'down');
  assert.equal(selectedRow(s)?.key, 'web#2');
  s = keys(s, 'down', 'down', 'down', 'down');
  assert.equal(selectedRow(s)?.key, 'api', 'the selection stops at the last row');
  s = keys(s, 'up', 'up', 'enter');
  assert.equal(selectedRow(s)?.key, 'web');
  assert.deepEqual(s.expanded, []);
});

test('a selected replica that vanishes (scale down) falls back to its service', () => {
  let s = keys(run(snap()), 'enter', 'down', 'down', 'down');
  assert.equal(selectedRow(s)?.key, 'web#3');
  s = reduce(s, snap(T0 + 1000, [serviceRow('web', 2), api]));
  assert.equal(selectedRow(s)?.key, 'web');
});

test('sparklines: one bucket a second per replica, gaps are zero, 60 buckets kept', () => {
  let s = run(snap(T0));
  s = reduce(s, snap(T0 + 1000, [serviceRow('web', 3, { replicas: serviceRow('web', 3).replicas.map((r) => ({ ...r, requestsPerSec: 7 })) })]));
  assert.equal(s.sparks['api#1'], undefined, 'api left the snapshot, so its history is dropped');
  s = reduce(s, snap(T0 + 3500));
  const spark = s.sparks['web#2']!;
  assert.equal(spark.rps.length, SPARK_BUCKETS);
  assert.deepEqual(spark.rps.slice(-4), [20, 7, 0, 20]);
  assert.deepEqual(spark.p95.slice(-4), [12, 12, 0, 12]);
  s = reduce(s, snap(T0 + 120_000));
  assert.deepEqual(s.sparks['web#2']!.rps.slice(0, 59), new Array(59).fill(0));
});

test('the ticker keeps health flips, ejections, rollouts and builds; skips chatty events', () => {
  const base = { time: T0, project: 'shop' };
  const events: DaemonEvent[] = [
    { ...base, type: 'health', service: 'web', replica: 2, source: 'mesh', healthy: false, reason: 'http 503' },
    { ...base, type: 'ejection', service: 'web', replica: 2, ejected: true, reason: '5 consecutive errors' },
    { ...base, type: 'rollout', service: 'web', phase: 'done' },
    { ...base, type: 'build', service: 'web', phase: 'step', step: 2, total: 5, text: 'RUN npm ci' },
    { ...base, type: 'replica-state', service: 'web', replica: 1, container: 'c', state: 'running', health: 'healthy', endpoints: [] },
  ];
  const s = run(...events.map((event): Action => ({ type: 'event', event })));
  assert.deepEqual(
    s.events.map((e) => `${e.tone} ${e.text}`),
    ['bad web-2 unhealthy (http 503)', 'bad web-2 ejected (5 consecutive errors)', 'ok rollout web done', 'info build web step 2/5 RUN npm ci'],
  );
});

test('logs are bounded and trimmed; a new selection resets them', () => {
  let s = initialState('shop');
  for (let i = 0; i < 250; i++) s = reduce(s, { type: 'log', frame: { service: 'web', replica: 1, stream: 'stdout', text: `line ${i}\n` } });
  assert.equal(s.logs.length, 200);
  assert.equal(s.logs.at(-1)?.text, 'line 249');
  assert.equal(reduce(s, { type: 'logs-reset' }).logs.length, 0);
});

test('keys: + and - scale the selected service from its desired count; - stops at 0', () => {
  const s = run(snap());
  assert.deepEqual(handleKey(s, '+', {}).effect, { kind: 'scale', service: 'web', replicas: 4 });
  assert.deepEqual(handleKey(s, '-', {}).effect, { kind: 'scale', service: 'web', replicas: 2 });
  const zero = run(snap(T0, [serviceRow('web', 0)]));
  assert.equal(handleKey(zero, '-', {}).effect, undefined);
  assert.equal(handleKey(s, 'r', {}).effect?.kind, 'restart');
  assert.deepEqual(handleKey(s, 'b', {}).effect, { kind: 'build', service: 'web' });
});

test('keys: k asks first and only y kills; d toggles drain of the selected replica', () => {
  let s = keys(run(snap()), 'enter', 'down');
  const ask = handleKey(s, 'k', {});
  assert.equal(ask.effect, undefined);
  s = ask.actions.reduce(reduce, s);
  assert.deepEqual(s.confirm, { kind: 'kill', service: 'web', replica: 1 });
  assert.equal(handleKey(s, 'x', {}).effect, undefined, 'other keys are ignored while asking');
  const no = keys(s, 'n');
  assert.equal(no.confirm, undefined);
  assert.equal(no.result?.text, 'kill cancelled');
  assert.deepEqual(handleKey(s, 'y', {}).effect, { kind: 'kill', service: 'web', replica: 1 });
  assert.deepEqual(handleKey(s, 'q', {}).effect, undefined, 'q does not quit out of a confirmation');
  const drained = serviceRow('web', 3, { replicas: serviceRow('web', 3).replicas.map((r) => ({ ...r, draining: r.replica === 1 })) });
  const d = keys(run(snap(T0, [drained])), 'enter', 'down');
  assert.deepEqual(handleKey(d, 'd', {}).effect, { kind: 'drain', service: 'web', replica: 1, drained: false });
  assert.equal(keys(run(snap()), 'd').result?.ok, false, 'd on a service row explains it needs a replica');
});

test('keys: / filters by name, esc clears, enter keeps; ? toggles help and any key closes it; q quits', () => {
  let s = keys(run(snap()), '/', 'a', 'p');
  assert.equal(s.filtering, true);
  assert.deepEqual(visibleRows(s).map((r) => r.key), ['api']);
  assert.equal(keys(s, 'esc').filter, '');
  s = keys(s, 'enter');
  assert.equal(s.filtering, false);
  assert.equal(s.filter, 'ap');
  assert.equal(selectedRow(s)?.key, 'api');
  s = keys(s, '?');
  assert.equal(s.help, true);
  assert.equal(keys(s, 'x').help, false);
  assert.deepEqual(handleKey(run(snap()), 'q', {}).effect, { kind: 'quit' });
  assert.deepEqual(handleKey(run(snap()), 'c', { ctrl: true }).effect, { kind: 'quit' });
});

test('results and pending actions replace each other on the status line', () => {
  let s = run({ type: 'pending', text: 'scaling web to 4…' });
  assert.equal(s.pending, 'scaling web to 4…');
  s = reduce(s, { type: 'result', ok: false, text: 'no service "x"' });
  assert.equal(s.pending, undefined);
  assert.deepEqual(s.result, { ok: false, text: 'no service "x"' });
});
