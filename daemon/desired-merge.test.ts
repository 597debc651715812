// How up/scale/stop/start change desired state: selection grows, --scale replaces only the named overrides.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeScale, mergeStopped, mergeUp, withDependencies } from './desired-merge.ts';
import { dep, project, svc } from './reconcile/testing.ts';

const spec = project('p', [svc('web', { dependsOn: { api: dep() } }), svc('api', { dependsOn: { db: dep() } }), svc('db'), svc('cron')]);

test('up svc selects it with its dependencies; a later up svc adds to the selection', () => {
  assert.deepEqual(withDependencies(spec, ['web']), ['api', 'db', 'web']);
  const first = mergeUp(undefined, spec, { services: ['api'] });
  assert.deepEqual(first.selected, ['api', 'db']);
  const second = mergeUp(first, spec, { services: ['cron'] });
  assert.deepEqual(second.selected, ['api', 'cron', 'db']);
  assert.equal(second.generation, 2);
  assert.deepEqual(mergeUp(second, spec, { services: [] }).selected, [], 'plain up selects everything');
});

test('scale overrides survive up unless --scale names that service', () => {
  const scaled = mergeScale(mergeUp(undefined, spec, { services: [] }), { web: 4, api: 2 });
  const again = mergeUp(scaled, spec, { services: [], scale: { web: 1 } });
  assert.deepEqual(again.scale, { web: 1, api: 2 });
  assert.throws(() => mergeUp(again, spec, { services: [], scale: { nope: 1 } }), /no service "nope"/);
  assert.throws(() => mergeScale(again, { web: -1 }), /invalid replica count/);
});

test('stop and start flip services; up un-stops what it brings up', () => {
  const base = mergeUp(undefined, spec, { services: [] });
  const stopped = mergeStopped(base, ['web', 'cron'], true);
  assert.deepEqual(stopped.stopped, ['cron', 'web']);
  assert.deepEqual(mergeStopped(stopped, ['web'], false).stopped, ['cron']);
  assert.deepEqual(mergeUp(stopped, spec, { services: ['cron'] }).stopped, ['web']);
  assert.deepEqual(mergeStopped(base, [], true).stopped, ['api', 'cron', 'db', 'web']);
});

test('a service with a static address runs one replica: --scale and cmesh scale above 1 are refused', () => {
  const p = project('p', [svc('db', { networks: { default: { aliases: [], ipv4Address: '10.213.0.5' } } })]);
  const first = mergeUp(undefined, p, { services: [] });
  assert.throws(() => mergeScale(first, { db: 2 }), /service "db" has a static address on network "default" and can run only one replica/);
  assert.throws(() => mergeUp(undefined, p, { services: [], scale: { db: 3 } }), /static address/);
  assert.equal(mergeScale(first, { db: 1 }).scale['db'], 1);
});
