// Secrets and configs on a real engine: file, environment and content sources appear read-only at their targets with
// the asked mode and owner, a changed value rolls the replica, nothing of them reaches the daemon log, and `down`
// removes the files cmesh wrote.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CmeshCli, newCmeshCli } from '../helpers/cmesh-cli.ts';
import { newRunId, RUN_LABEL, requireDocker, run, TEST_LABEL, dockerTestFile } from '../helpers/docker.ts';

await dockerTestFile();

const runId = newRunId('secrets');
const project = runId;
const FILE_SECRET = `file-secret-${runId}`;
const ENV_SECRET = `env-secret-${runId}`;
let cli: CmeshCli;

const compose = (): string => `  app:
    image: cmesh/busybox:local
    command: ["sleep", "600"]
    secrets:
      - db_password
      - source: api_token
        target: token
        uid: "1234"
        gid: "4321"
        mode: 0400
    configs:
      - source: app_conf
        target: /etc/app.conf
    labels:
      ${TEST_LABEL}: "true"
      ${RUN_LABEL}: ${runId}
secrets:
  db_password:
    file: ./pw.txt
  api_token:
    environment: API_TOKEN
configs:
  app_conf:
    content: "level=debug token=\${API_TOKEN:+set}"
`;

before(async () => {
  await requireDocker();
  cli = await newCmeshCli();
  // From .env, so the second test can change it without a new CLI environment.
  await writeFile(join(cli.work, '.env'), `API_TOKEN=${ENV_SECRET}\n`);
  await writeFile(join(cli.work, 'pw.txt'), FILE_SECRET);
  await cli.writeCompose(project, compose());
});

after(async () => {
  await cli?.teardown(project, runId);
});

const container = async (): Promise<string> => {
  const rows = await cli.ps();
  assert.equal(rows.length, 1);
  return rows[0]!.name;
};
const sh = async (script: string): Promise<string> => run(['exec', await container(), 'sh', '-c', script]);

test('file, environment and content sources land at their targets, read-only, with mode and owner', async () => {
  await cli.ok(['up', '-d', '--wait', '--timeout', '60']);
  assert.equal(await sh('cat /run/secrets/db_password'), FILE_SECRET);
  assert.equal(await sh('cat /run/secrets/token'), ENV_SECRET);
  assert.equal(await sh('stat -c "%a %u %g" /run/secrets/token'), '400 1234 4321');
  assert.equal(await sh('cat /etc/app.conf'), 'level=debug token=set');
  assert.equal(await sh('stat -c "%a" /etc/app.conf'), '444');
  assert.match(await sh('echo x > /run/secrets/token 2>&1 || echo refused'), /refused|Read-only/);
  // A file source without owner or mode changes is the user's own file, bind-mounted: edits show up live.
  await writeFile(join(cli.work, 'pw.txt'), `${FILE_SECRET}-edited`);
  assert.equal(await sh('cat /run/secrets/db_password'), `${FILE_SECRET}-edited`);
});

test('a changed environment value rolls the replica; the values never reach the daemon log', async () => {
  const first = (await cli.ps())[0]!.container;
  await writeFile(join(cli.work, '.env'), `API_TOKEN=${ENV_SECRET}-v2\n`);
  await cli.ok(['up', '-d', '--wait', '--timeout', '60'], 90_000);
  const second = (await cli.ps())[0]!.container;
  assert.notEqual(second, first, 'the replica was replaced');
  assert.equal(await sh('cat /run/secrets/token'), `${ENV_SECRET}-v2`);
  const log = await readFile(join(cli.home, 'daemon.log'), 'utf8');
  assert.ok(!log.includes(ENV_SECRET) && !log.includes(FILE_SECRET), 'no secret value in the daemon log');
});

test('down removes the files cmesh wrote for the project', async () => {
  assert.ok(existsSync(join(cli.home, 'files', project)));
  await cli.ok(['down']);
  assert.equal(existsSync(join(cli.home, 'files', project)), false);
});
