// updateService against Swarm's own writes: an update built on an older read is refused "update out of sequence",
// read again, rebuilt from what is there now, and sent once more — a bounded number of times.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CmeshError } from '../api/errors.ts';
import type { SwarmServiceInfo, SwarmServiceSpec } from '../api/swarm-engine.ts';
import { FakeSwarm } from '../engine/fake-swarm.ts';
import { updateService } from './update-service.ts';

const imageId = `sha256:${'cd'.repeat(32)}`;

function spec(replicas: number): SwarmServiceSpec {
  return {
    Name: 'shop_web',
    Labels: { 'dev.cmesh.service': 'web' },
    TaskTemplate: { ContainerSpec: { Image: imageId, Labels: {}, Env: [] }, RestartPolicy: { Condition: 'any' }, Networks: [] },
    Mode: { Replicated: { Replicas: replicas } },
    UpdateConfig: { Parallelism: 1, Order: 'start-first', FailureAction: 'rollback' },
    EndpointSpec: { Mode: 'vip', Ports: [] },
  };
}

const bump = (current: SwarmServiceInfo): SwarmServiceSpec => ({ ...current.spec, TaskTemplate: { ...current.spec.TaskTemplate, ForceUpdate: (current.spec.TaskTemplate.ForceUpdate ?? 0) + 1 } });

async function service(): Promise<{ swarm: FakeSwarm; have: SwarmServiceInfo }> {
  const swarm = new FakeSwarm({ images: [imageId] });
  return { swarm, have: await swarm.createService(spec(2)) };
}

const updates = (swarm: FakeSwarm) => swarm.calls.filter((c) => c.method === 'updateService');

test('an update refused as out of sequence is rebuilt from a fresh read and sent again: the counter moves once', async () => {
  const { swarm, have } = await service();
  swarm.raceUpdates(2);
  assert.equal(await updateService(swarm, have, bump), true);
  const after = (await swarm.inspectService(have.id))!;
  assert.equal(after.spec.TaskTemplate.ForceUpdate, 1, 'one restart, not three');
  assert.equal(updates(swarm).length, 3);
  assert.deepEqual(
    updates(swarm).map((c) => c.args[1]),
    [have.version, have.version + 1, have.version + 2],
    'each try carries the version it read',
  );
});

test('a service that keeps changing is given up after five tries, with the out-of-sequence error and its hint', async () => {
  const { swarm, have } = await service();
  swarm.raceUpdates(10);
  await assert.rejects(
    updateService(swarm, have, bump),
    (err: unknown) => err instanceof CmeshError && err.details['reason'] === 'out-of-sequence' && /run the command again/.test(err.hint ?? ''),
  );
  assert.equal(updates(swarm).length, 5);
});

test('nothing is sent when the fresh read already is as wanted; other failures are not retried', async () => {
  const { swarm, have } = await service();
  assert.equal(await updateService(swarm, have, () => undefined), false);
  assert.equal(updates(swarm).length, 0);
  await swarm.removeService(have.id);
  await assert.rejects(updateService(swarm, have, bump), (err: unknown) => err instanceof CmeshError && err.details['reason'] !== 'out-of-sequence');
  assert.equal(updates(swarm).length, 1, 'a missing service is not retried');
});

test('a service removed between the refusal and the fresh read is named, not retried', async () => {
  const { swarm, have } = await service();
  swarm.raceUpdates(1);
  swarm.inspectService = async () => undefined; // removed by someone else right after the refusal
  await assert.rejects(updateService(swarm, have, bump), (err: unknown) => err instanceof CmeshError && err.details['reason'] === 'gone' && /shop_web/.test(err.message));
  assert.equal(updates(swarm).length, 1);
});
