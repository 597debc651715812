// Builds overlap with starts, on the real engine: during `cmesh up`, a service that needs no build (db) is already
// running while another service's image (app, whose Dockerfile sleeps) is still being built; app starts after it.

import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CmeshCli, newCmeshCli } from '../helpers/cmesh-cli.ts';
import { newRunId, RUN_LABEL, requireDocker, run, TEST_LABEL, dockerTestFile } from '../helpers/docker.ts';

await dockerTestFile();

const runId = newRunId('overlap');
const project = runId;
let cli: CmeshCli;

const labels = `    labels: { ${TEST_LABEL}: "true", ${RUN_LABEL}: ${runId} }\n`;

before(async () => {
  await requireDocker();
  cli = await newCmeshCli();
  await mkdir(join(cli.work, 'app'), { recursive: true });
  // The build takes at least 4 s: long enough to see db start inside it even on a loaded host.
  await writeFile(join(cli.work, 'app', 'Dockerfile'), `FROM cmesh/busybox:local\nRUN sleep 4 && echo ${runId} > /built\nCMD ["sleep", "3600"]\n`);
  await cli.writeCompose(
    project,
    `  db:\n    image: cmesh/busybox:local\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n${labels}` +
      `  app:\n    build: { context: ./app, labels: { ${TEST_LABEL}: "true", ${RUN_LABEL}: ${runId} } }\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n    depends_on: [db]\n${labels}`,
  );
});

after(async () => {
  await cli?.teardown(project, runId);
  const images = (await run(['images', '-q', '--filter', `label=${RUN_LABEL}=${runId}`]).catch(() => '')).split('\n').filter(Boolean);
  if (images.length > 0) await run(['rmi', '-f', ...new Set(images)]).catch(() => undefined);
});

const startedAt = async (name: string): Promise<number> => Date.parse(await run(['inspect', '--format', '{{.State.StartedAt}}', name]));

test('up: db runs while app is still being built; app starts once its image exists', { timeout: 180_000 }, async () => {
  await cli.ok(['up', '-d', '--wait', '--timeout', '120'], 170_000);
  const image = (await run(['inspect', '--format', '{{.Config.Image}}', `${project}-app-1`])).trim();
  const built = Date.parse(await run(['image', 'inspect', '--format', '{{.Created}}', image]));
  const db = await startedAt(`${project}-db-1`);
  const app = await startedAt(`${project}-app-1`);
  // The image's Created time is when its last step was committed, after the 4 s RUN; db started before that.
  assert.ok(db < built - 1000, `db started ${built - db} ms before app's image was committed (want > 1000)`);
  assert.ok(app >= built, 'app starts from the built image');
});
