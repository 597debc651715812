// The SwarmEngine contract against the in-memory fake; the same suite runs on a real swarm in test/e2e/swarm.docker.test.ts.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CmeshError } from '../api/errors.ts';
import type { SwarmServiceSpec } from '../api/swarm-engine.ts';
import { FakeSwarm } from './fake-swarm.ts';
import { swarmContract } from './swarm-contract.ts';

const imageId = `sha256:${'ab'.repeat(32)}`;

swarmContract('FakeSwarm', async () => ({
  swarm: new FakeSwarm({ images: [imageId] }),
  imageId,
  project: 'swarmcontract',
  labels: {},
  settleMs: 1000,
  cleanup: async () => {},
}));

it('FakeSwarm: every call on a non-manager is CMESH_E_SWARM_NOT_MANAGER with the init/join hint', async () => {
  const swarm = new FakeSwarm({ status: { state: 'inactive', manager: false } });
  assert.deepEqual(await swarm.swarmStatus(), { state: 'inactive', manager: false });
  await assert.rejects(swarm.listServices({}), (err: unknown) => err instanceof CmeshError && err.code === 'CMESH_E_SWARM_NOT_MANAGER' && /docker swarm init/.test(err.hint ?? ''));
});

it('FakeSwarm: a task of an image the node lacks is rejected, and a failed task is replaced in its slot', async () => {
  const swarm = new FakeSwarm({ images: [imageId] });
  const base: Omit<SwarmServiceSpec, 'Name' | 'TaskTemplate'> = {
    Labels: { a: '1' },
    Mode: { Replicated: { Replicas: 1 } },
    UpdateConfig: { Parallelism: 1, Order: 'start-first', FailureAction: 'rollback' },
    EndpointSpec: { Mode: 'vip', Ports: [] },
  };
  const task = (image: string) => ({ ContainerSpec: { Image: image, Labels: {}, Env: [] }, RestartPolicy: { Condition: 'any' as const }, Networks: [] });
  await swarm.createService({ ...base, Name: 'tagged', Labels: { a: 'tag' }, TaskTemplate: task('busybox:latest') });
  const [rejected] = await swarm.listTasks({ a: 'tag' });
  assert.equal(rejected?.state, 'rejected');
  assert.match(rejected?.message ?? '', /No such image/);
  await swarm.createService({ ...base, Name: 'byid', TaskTemplate: task(imageId) });
  const [first] = await swarm.listTasks({ a: '1' });
  swarm.failTask(first!.id);
  const tasks = await swarm.listTasks({ a: '1' });
  assert.deepEqual(tasks.map((t) => [t.slot, t.state, t.desiredState]), [[1, 'failed', 'shutdown'], [1, 'running', 'running']]);
});
