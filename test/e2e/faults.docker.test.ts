// Bad input and faults through the real CLI: each ends in its stable error code, exit code and a hint, never a hang
// or "cmesh hit a bug". Engine down is simulated by pointing the daemon's DOCKER_HOST at a socket that does not exist.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ExitCode } from '../../daemon/api/errors.ts';
import { type CmeshCli, newCmeshCli, projectContainers } from '../helpers/cmesh-cli.ts';
import { newRunId, ROOT, RUN_LABEL, requireDocker, TEST_LABEL, dockerTestFile } from '../helpers/docker.ts';

await dockerTestFile();

const runId = newRunId('faults');
const project = runId;
const labels = `    labels:\n      ${TEST_LABEL}: "true"\n      ${RUN_LABEL}: ${runId}\n`;
let cli: CmeshCli;
let down: CmeshCli;
let squatter: Server | undefined;

async function compose(file: string, services: string): Promise<void> {
  await writeFile(join(cli.work, file), `name: ${project}\nservices:\n${services}`);
}

before(async () => {
  await requireDocker();
  cli = await newCmeshCli();
  down = await newCmeshCli({ DOCKER_HOST: `unix://${join(ROOT, '.no-such-engine.sock')}` });
  await writeFile(join(down.work, 'compose.yaml'), `name: ${project}-down\nservices:\n  a:\n    image: cmesh/busybox:local\n`);
});

after(async () => {
  squatter?.close();
  await down?.teardown(`${project}-down`, runId);
  await cli?.teardown(project, runId);
});

test('engine not running: CMESH_E_ENGINE_UNAVAILABLE, exit 4, points at scripts/ensure-docker.sh', async () => {
  const started = Date.now();
  const r = await down.cmesh(['up', '-d'], 30_000);
  assert.equal(r.code, ExitCode.engineUnavailable, r.stderr);
  assert.match(r.stderr, /CMESH_E_ENGINE_UNAVAILABLE/);
  assert.match(r.stderr, /scripts\/ensure-docker\.sh/);
  assert.ok(Date.now() - started < 20_000, 'fails fast');
  const ps = await down.cmesh(['ps', '-p', 'anything'], 30_000);
  assert.equal(ps.code, ExitCode.engineUnavailable, ps.stderr);
});

test('missing image without build: CMESH_E_IMAGE_MISSING with a hint, nothing created', async () => {
  await compose('missing.yaml', `  a:\n    image: cmesh/no-such-image:local\n${labels}`);
  const r = await cli.cmesh(['-f', 'missing.yaml', 'up', '-d']);
  assert.equal(r.code, ExitCode.notFound, r.stderr);
  assert.match(r.stderr, /CMESH_E_IMAGE_MISSING/);
  assert.match(r.stderr, /hint: .*(build|pull)/);
  assert.deepEqual(await projectContainers(project), []);
});

test('invalid volume path: CMESH_E_VOLUME_PATH, exit 3', async () => {
  // create_host_path: false, or the engine would create the missing directory (as Compose's short syntax asks).
  const volume = `    volumes: [{type: bind, source: /nonexistent/cmesh-${runId}, target: /data, bind: {create_host_path: false}}]\n`;
  await compose('volume.yaml', `  a:\n    image: cmesh/busybox:local\n    command: ["sleep", "60"]\n${volume}${labels}`);
  const r = await cli.cmesh(['-f', 'volume.yaml', 'up', '-d']);
  assert.equal(r.code, ExitCode.config, r.stderr);
  assert.match(r.stderr, /CMESH_E_VOLUME_PATH/);
  assert.match(r.stderr, /\/nonexistent\/cmesh-/);
  assert.match(r.stderr, /hint: /);
  await cli.ok(['-f', 'volume.yaml', 'down']);
});

test('unknown service in scale: CMESH_E_SERVICE_NOT_FOUND, exit 7, lists the services', async () => {
  await compose('compose.yaml', `  a:\n    image: cmesh/busybox:local\n    command: ["sleep", "60"]\n    stop_grace_period: 1s\n${labels}`);
  await cli.ok(['up', '-d']);
  const r = await cli.cmesh(['scale', 'nope=2']);
  assert.equal(r.code, ExitCode.notFound, r.stderr);
  assert.match(r.stderr, /CMESH_E_SERVICE_NOT_FOUND/);
  assert.match(r.stderr, /services are: a/);
});

test('ps -p of an unknown project: CMESH_E_PROJECT_NOT_FOUND, exit 7', async () => {
  const r = await cli.cmesh(['ps', '-p', `${runId}-nonexistent`]);
  assert.equal(r.code, ExitCode.notFound, r.stderr);
  assert.match(r.stderr, /CMESH_E_PROJECT_NOT_FOUND/);
  assert.match(r.stderr, /hint: /);
});

test('published port already taken: CMESH_E_PORT_TAKEN, exit 8', async () => {
  squatter = createServer();
  await new Promise<void>((resolve) => squatter!.listen(0, '127.0.0.1', resolve));
  const port = (squatter.address() as { port: number }).port;
  await compose('port.yaml', `  web:\n    image: cmesh/busybox:local\n    command: ["httpd", "-f", "-p", "3000"]\n    ports: ["127.0.0.1:${port}:3000"]\n${labels}`);
  const r = await cli.cmesh(['-f', 'port.yaml', 'up', '-d']);
  assert.equal(r.code, ExitCode.conflict, r.stderr);
  assert.match(r.stderr, /CMESH_E_PORT_TAKEN/);
  assert.match(r.stderr, new RegExp(String(port)));
});
