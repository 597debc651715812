// planSharedGateway(): the joins and leaves of the daemon's shared gateway for one project (pure).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerInfo } from '../api/engine.ts';
import { planSharedGateway, sharedRenamed } from './plan-gateway-shared.ts';
import type { Action } from './plan-types.ts';

const NAME = 'cmesh-gateway-0123456789ab';
const mine = new Set(['p_default', 'p_back']);

function shared(networks: ContainerInfo['networks']): ContainerInfo {
  return { id: 'f'.repeat(64), name: NAME, image: 'cmesh/gateway:x', state: 'running', health: 'none', labels: {}, createdAt: 0, restartCount: 0, endpoints: [], networks };
}

const brief = (actions: Action[]): string[] =>
  actions.map((a) => (a.kind === 'connect' ? `connect ${a.target.id.slice(0, 4)} ${a.network} ${a.aliases.join(',')}` : a.kind === 'disconnect' ? `disconnect ${a.network}` : a.kind));

test('not made yet: joins by name, ahead of running replicas or beside new ones', () => {
  const wanted = [{ name: 'p_default', aliases: ['web', 'api'] }];
  const fresh = planSharedGateway(mine, NAME, undefined, wanted, false);
  assert.deepEqual(brief(fresh.concurrent), ['connect cmes p_default api,web']);
  assert.deepEqual([fresh.before, fresh.after], [[], []]);
  const running = planSharedGateway(mine, NAME, undefined, wanted, true);
  assert.deepEqual(brief(running.before), ['connect cmes p_default api,web']);
  assert.ok(running.before.every((a) => a.kind === 'connect' && a.shared === true), 'the executor waits for it to run');
});

test('on the network with the same names: nothing; other projects’ networks are never touched', () => {
  const on = shared([
    { name: 'p_default', aliases: ['api', 'web'], address: '172.20.0.2' },
    { name: 'q_default', aliases: ['api'], address: '172.21.0.2' },
  ]);
  const out = planSharedGateway(mine, NAME, on, [{ name: 'p_default', aliases: ['web', 'api'] }], true);
  assert.deepEqual([out.before, out.concurrent, out.after], [[], [], []]);
});

test('other names on a network: renamed (the project takes them over itself); a network it should not be on: left after', () => {
  const on = shared([
    { name: 'p_default', aliases: ['api'] },
    { name: 'p_back', aliases: ['api.back'] },
    { name: 'q_default', aliases: ['web'] },
  ]);
  assert.equal(sharedRenamed(mine, on, [{ name: 'p_default', aliases: ['api', 'api.alias'] }]), true);
  assert.equal(sharedRenamed(mine, on, [{ name: 'p_default', aliases: ['api'] }]), false);
  assert.equal(sharedRenamed(mine, on, [{ name: 'p_new', aliases: ['api'] }]), false, 'a network it is not on yet is a join');
  assert.equal(sharedRenamed(new Set(['q_default']), on, [{ name: 'q_default', aliases: ['web'] }]), false);
  const out = planSharedGateway(mine, NAME, on, [{ name: 'p_default', aliases: ['api'] }], true);
  assert.deepEqual(brief(out.after), ['disconnect p_back']);
  assert.deepEqual([out.before, out.concurrent], [[], []]);
});

test('nothing wanted (east-west off, or down): leaves every network of the project, only those', () => {
  const on = shared([
    { name: 'p_default', aliases: ['api'] },
    { name: 'q_default', aliases: ['api'] },
  ]);
  const out = planSharedGateway(mine, NAME, on, [], false);
  assert.deepEqual(brief(out.after), ['disconnect p_default']);
  assert.deepEqual([out.before, out.concurrent], [[], []]);
});
