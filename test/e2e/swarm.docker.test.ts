// The swarm target on a real single-node swarm: the test joins the engine to a swarm only when it is in none, and
// leaves it again in `after` (only if it did the init). Everything it creates carries the run labels and is removed
// by run id, also on failure. The only swarm e2e file: it runs serially with the other docker tests.

import { after, test } from 'node:test';
import { createDockerSwarm } from '../../daemon/engine/dockerode-swarm.ts';
import { swarmContract } from '../../daemon/engine/swarm-contract.ts';
import { ensureBaseImages, newRunId, requireDocker, run, testLabels } from '../helpers/docker.ts';
import { cleanupSwarm, ensureSwarm, leaveSwarm } from '../helpers/swarm.ts';

await requireDocker();
const session = await ensureSwarm();
const runIds: string[] = [];

after(async () => {
  try {
    for (const id of runIds) await cleanupSwarm(id);
  } finally {
    await leaveSwarm(session);
  }
});

if (session.skip !== undefined) {
  test('swarm target', { skip: session.skip }, () => {});
} else {
  swarmContract('DockerodeSwarm on a single-node swarm', async () => {
    await ensureBaseImages();
    const runId = newRunId('swarmcontract');
    runIds.push(runId);
    return {
      swarm: createDockerSwarm(),
      // By ID: Swarm would try a registry pull of a tag at every task start.
      imageId: await run(['image', 'inspect', '--format', '{{.Id}}', 'cmesh/busybox:local']),
      project: runId,
      labels: testLabels(runId),
      settleMs: 60_000,
      cleanup: () => cleanupSwarm(runId),
    };
  });
}
