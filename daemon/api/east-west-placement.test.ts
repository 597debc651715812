// Sticky gateway placement: services stay where they run, newcomers get new gateways, a bound repacks.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EastWestPlan, EastWestService } from './east-west.ts';
import { formatGatewayServices, type ObservedGateway, parseGatewayServices, placeGateways } from './east-west-placement.ts';

const http = (name: string, port = 3000, gateway = 0): EastWestService => ({ name, ports: [{ port, protocol: 'http' }], probePort: port, gateway });
const tcp = (name: string, port: number, gateway = 0): EastWestService => ({ name, ports: [{ port, protocol: 'tcp' }], probePort: port, gateway });
const plan = (...services: EastWestService[]): EastWestPlan => ({
  services: [...services].sort((a, b) => a.name.localeCompare(b.name)),
  skipped: [],
  gateways: Math.max(0, ...services.map((s) => s.gateway + 1)),
});
const on = (index: number, ...services: string[]): ObservedGateway => ({ index, services: new Map(services.map((s) => [s, 'd'])) });
const shape = (p: ReturnType<typeof placeGateways>) => p.gateways.map((g) => [g.index, g.services.join('+'), g.observed]);

test('no gateway yet: the first up places by first fit (eastWestPlan)', () => {
  const p = placeGateways(plan(http('api'), http('web'), tcp('db', 5432), tcp('db2', 5432, 1)), []);
  assert.deepEqual(shape(p), [[0, 'api+db+web', false], [1, 'db2', false]]);
  assert.equal(p.repacked, false);
});

test('a newcomer goes to a new gateway even where it would fit an old one; nothing moves', () => {
  // cache would fit gateway 0 on a first up; placing it there would mean recreating 0 (its aliases change).
  const p = placeGateways(plan(http('api'), http('web'), http('cache')), [on(0, 'api', 'web')]);
  assert.deepEqual(shape(p), [[0, 'api+web', true], [1, 'cache', false]]);
  assert.equal(p.byService.get('cache'), 1);
  assert.deepEqual(p.unwanted, []);
});

test('new gateways take indices no container uses, even one about to be removed', () => {
  // Gateway 1 served only `old`, which left: it is unwanted, and its name is still taken until the pass removes it.
  const p = placeGateways(plan(http('api'), http('new1'), tcp('new2', 3000)), [on(0, 'api'), on(1, 'old')]);
  assert.deepEqual(shape(p), [[0, 'api', true], [2, 'new1', false], [3, 'new2', false]]);
  assert.deepEqual(p.unwanted, [1]);
});

test('a service that now collides with a gateway-mate leaves that gateway; one that left the mesh frees nothing else', () => {
  // db turned TCP on 3000 (api is HTTP on 3000): db goes to a new gateway, api stays.
  const p = placeGateways(plan(http('api'), tcp('db', 3000)), [on(0, 'api', 'db')]);
  assert.deepEqual(shape(p), [[0, 'api', true], [1, 'db', false]]);
});

test('past the bound the project is placed afresh, and says so', () => {
  const observed = [0, 1, 2].map((i) => on(i, `s${i}`));
  const services = [0, 1, 2, 3].map((i) => http(`s${i}`));
  assert.equal(placeGateways(plan(...services), observed, 4).repacked, false);
  const p = placeGateways(plan(...services, http('s4')), [...observed, on(3, 's3')], 4);
  assert.equal(p.repacked, true);
  assert.deepEqual(shape(p), [[0, 's0+s1+s2+s3+s4', true]]);
  assert.deepEqual(p.unwanted, [1, 2, 3]);
});

test('the services label round-trips; an old gateway without it parses as undefined', () => {
  const label = formatGatewayServices(new Map([['web', 'b2'], ['api', 'a1']]));
  assert.equal(label, 'api:a1,web:b2');
  assert.deepEqual([...parseGatewayServices(label)!], [['api', 'a1'], ['web', 'b2']]);
  assert.equal(parseGatewayServices(undefined), undefined);
});
