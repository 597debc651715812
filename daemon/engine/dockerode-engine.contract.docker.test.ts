// The engine contract against the real adapter on Docker: everything is labelled with the test and run labels and
// reaped by run id in `after`, also when a case failed; names carry the run id so parallel runs never collide.

import { cleanup, newRunId, requireDocker, testLabels, dockerTestFile } from '../../test/helpers/docker.ts';
import { createDockerEngine } from './dockerode-engine.ts';
import { engineContract } from './engine-contract.ts';

await dockerTestFile();

engineContract('DockerodeEngine on Docker', async () => {
  await requireDocker();
  const runId = newRunId('contract');
  return {
    engine: createDockerEngine({ reach: 'direct' }),
    image: 'cmesh/busybox:local',
    project: runId,
    labels: testLabels(runId),
    now: () => Date.now(),
    cleanup: () => cleanup(runId),
  };
});
