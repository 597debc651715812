// The hub's side of a start-first gateway replacement: the new container counts as serving only on its own report
// (by hostname) with a listener and a routable replica per service; the old one is named in the drain list, and the
// drain resolves once it says it drains with nothing in flight (bounded); then in the retire list until it says its
// listeners are closed; then it leaves both.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GATEWAY_PROTOCOL_VERSION, type GatewayStats, gatewayTableSchema } from './api/gateway-control.ts';
import type { ServiceTableRow } from './api/service-table.ts';
import { GatewayDrains, servingAll } from './gateway-rollout-hooks.ts';
import { gatewayTable } from './gateway-table.ts';
import { desired, project, svc } from './reconcile/testing.ts';

const row = (service: string, routable: boolean, inFlight = 0): ServiceTableRow =>
  ({ service, replicas: [{ id: `${service}#1`, state: 'running', endpoints: [{ containerPort: 3000 }], draining: false, routable, inFlight }] }) as unknown as ServiceTableRow;

const report = (host: string, over: Partial<GatewayStats> = {}): GatewayStats => ({
  type: 'stats',
  version: GATEWAY_PROTOCOL_VERSION,
  project: 'p',
  host,
  time: Date.now(),
  startedAt: Date.now(),
  services: [row('web', true), row('api', true)],
  warnings: [],
  serving: ['web', 'api'],
  requests: [],
  ...over,
});

test('servingAll: every service listened for and routable where it runs; an older report without `serving` is not', () => {
  assert.ok(servingAll(report('aaa'), ['web', 'api']));
  assert.ok(!servingAll(report('aaa', { serving: ['web'] }), ['web', 'api']));
  assert.ok(!servingAll(report('aaa', { services: [row('web', false), row('api', true)] }), ['web', 'api']));
  assert.ok(!servingAll(report('aaa', { serving: undefined }), ['web']));
  assert.ok(!servingAll(undefined, ['web']));
});

test('waitServing waits for the new container`s own report, and gives up after its bound', async () => {
  const reports = new Map<string, GatewayStats>([['old', report('old')]]);
  const hooks = new GatewayDrains().hooks('p', { reportOf: (h) => reports.get(h), publish: () => {} });
  setTimeout(() => reports.set('new', report('new')), 100);
  const started = Date.now();
  assert.equal(await hooks.waitServing('new', ['web', 'api'], 5000), true);
  assert.ok(Date.now() - started >= 90);
  assert.equal(await hooks.waitServing('other', ['web'], 100), false);
});

test('drain: named in the list (published), resolves once it drains with nothing in flight, then forgotten', async () => {
  const drains = new GatewayDrains();
  let published = 0;
  const reports = new Map<string, GatewayStats>([['old', report('old', { services: [row('web', true, 2)] })]]);
  const hooks = drains.hooks('p', { reportOf: (h) => reports.get(h), publish: () => published++ });
  const started = Date.now();
  const done = hooks.drain('old', 5000);
  assert.deepEqual(drains.lists('p'), { drain: ['old'], retire: [] });
  assert.equal(published, 1);
  // It says it drains, still with requests in flight; then they finish.
  setTimeout(() => reports.set('old', report('old', { draining: true, services: [row('web', true, 2)] })), 50);
  setTimeout(() => reports.set('old', report('old', { draining: true, services: [row('web', true, 0)] })), 800);
  await done;
  const took = Date.now() - started;
  assert.ok(took >= 790 && took < 3000, `drained after ${took} ms`);
  // Then its listeners close: named in the retire list too, done once it reports them closed.
  const retired = hooks.retire('old', 5000);
  assert.deepEqual(drains.lists('p'), { drain: ['old'], retire: ['old'] });
  setTimeout(() => reports.set('old', report('old', { draining: true, retired: true, services: [row('web', true, 0)] })), 200);
  const t0 = Date.now();
  await retired;
  assert.ok(Date.now() - t0 >= 190, 'waited for the report');
  hooks.forget('old');
  assert.deepEqual(drains.lists('p'), { drain: [], retire: [] });
  assert.equal(published, 3);
});

test('drain is bounded: a gateway that keeps requests in flight is let go after the grace', async () => {
  const reports = new Map([['old', report('old', { draining: true, services: [row('web', true, 1)] })]]);
  const hooks = new GatewayDrains().hooks('p', { reportOf: (h) => reports.get(h), publish: () => {} });
  const started = Date.now();
  await hooks.drain('old', 300);
  assert.ok(Date.now() - started < 1000);
});

test('the table names the gateways to drain and to retire, sorted; the gateway`s own schema reads them', () => {
  const d = desired(project('p', [svc('web', { expose: [3000] })], { eastWest: true }));
  const table = gatewayTable(d, [], { drain: ['bbbbbbbbbbbb', 'aaaaaaaaaaaa'], retire: ['aaaaaaaaaaaa'] });
  assert.deepEqual([table.drain, table.retire], [['aaaaaaaaaaaa', 'bbbbbbbbbbbb'], ['aaaaaaaaaaaa']]);
  assert.deepEqual(gatewayTableSchema.parse(table).retire, ['aaaaaaaaaaaa']);
  assert.equal(gatewayTable(d, []).drain, undefined, 'absent when nothing drains');
});
