// `exec`/`cp --index N` on the swarm target resolve the task in slot N on this node; a task on another node is an
// error naming that node; a missing slot or a task not running is refused with what to do.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CmeshError } from '../api/errors.ts';
import { Labels } from '../api/labels.ts';
import type { SwarmServiceSpec } from '../api/swarm-engine.ts';
import { FakeSwarm } from '../engine/fake-swarm.ts';
import { swarmProjectLabels } from './deploy.ts';
import { swarmTaskReplica } from './task-replica.ts';

const image = 'sha256:0123';
const spec = (service: string, replicas: number, img = image): SwarmServiceSpec => {
  const labels = { ...swarmProjectLabels('shop'), [Labels.service]: service };
  return {
    Name: `shop_${service}`,
    Labels: labels,
    TaskTemplate: { ContainerSpec: { Image: img, Labels: labels, Env: [] }, RestartPolicy: { Condition: 'any' }, Networks: [] },
    Mode: { Replicated: { Replicas: replicas } },
    UpdateConfig: { Parallelism: 1, Order: 'start-first', FailureAction: 'rollback' },
    EndpointSpec: { Mode: 'vip', Ports: [] },
  };
};
const refused = (code: string, message: RegExp, check: (e: CmeshError) => void = () => undefined) => (err: unknown) => {
  assert.ok(err instanceof CmeshError, String(err));
  assert.equal(err.code, code);
  assert.match(err.message, message);
  check(err);
  return true;
};

test('--index N is the task in slot N on this node; its container is what exec and cp talk to', async () => {
  const swarm = new FakeSwarm({ images: [image] });
  await swarm.createService(spec('web', 3));
  const tasks = await swarm.listTasks(swarmProjectLabels('shop'));
  const two = tasks.find((t) => t.slot === 2)!;
  const c = await swarmTaskReplica(swarm, 'shop', 'web', 2, true);
  assert.deepEqual([c.id, c.name, c.labels[Labels.replica], c.state], [two.containerId, `shop_web.2.${two.id}`, '2', 'running']);
});

test('a task on another node is refused naming that node and its address; a missing slot names the service', async () => {
  const swarm = new FakeSwarm({ images: [image] });
  await swarm.createService(spec('web', 2));
  const one = (await swarm.listTasks(swarmProjectLabels('shop'))).find((t) => t.slot === 1)!;
  swarm.placeTask(one.id, { id: 'node-b', hostname: 'worker-b', addr: '10.0.0.7' });
  await assert.rejects(
    swarmTaskReplica(swarm, 'shop', 'web', 1, true),
    refused('CMESH_E_TARGET_UNSUPPORTED', /^web-1 runs on swarm node "worker-b" \(10\.0\.0\.7, node node-b\), not on this daemon's node/, (e) => {
      assert.match(e.hint ?? '', /--index.*docker exec` on worker-b/);
      assert.equal(e.details?.['node'], 'worker-b');
    }),
  );
  assert.equal((await swarmTaskReplica(swarm, 'shop', 'web', 2, true)).labels[Labels.replica], '2', 'the task on this node still answers');
  await assert.rejects(swarmTaskReplica(swarm, 'shop', 'web', 3, true), refused('CMESH_E_SERVICE_NOT_FOUND', /^no task web-3 in swarm project "shop"/));
  await assert.rejects(swarmTaskReplica(swarm, 'shop', 'db', 1, true), refused('CMESH_E_SERVICE_NOT_FOUND', /no task db-1/));
});

test('a task without a running container (its image missing on the node) is refused, not exec’d into', async () => {
  const swarm = new FakeSwarm({ images: [image] });
  await swarm.createService(spec('web', 1, 'sha256:absent'));
  // The fake rejects the task (desired shutdown), so the slot has no task meant to run.
  await assert.rejects(swarmTaskReplica(swarm, 'shop', 'web', 1, false), refused('CMESH_E_SERVICE_NOT_FOUND', /no task web-1/));
});
