// CI smoke mode end to end: `up --wait --timeout S --report junit.xml --report-json out.json` on the real engine.
// Healthy → exit 0 and a JUnit file a strict parser reads; a never-healthy service → exit 6 within timeout + 5 s with
// its logs; `RUN exit 3` → exit 5; a bad report path or --timeout → usage error before anything starts; down → no trace.

import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CmeshCli, newCmeshCli, projectContainers } from '../helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, RUN_LABEL, requireDocker, run, TEST_LABEL, dockerTestFile } from '../helpers/docker.ts';
import { findAll, parseXml } from '../helpers/xml.ts';
import { freePort } from '../helpers/free-port.ts';

await dockerTestFile();

const runId = newRunId('ci');
const project = runId;
let cli: CmeshCli;
let image = '';

const labels = `    labels:\n      ${TEST_LABEL}: "true"\n      ${RUN_LABEL}: ${runId}\n`;

async function writeCompose(file: string, services: string): Promise<string> {
  const path = join(cli.work, file);
  await writeFile(path, `name: ${project}\nservices:\n${services}`);
  return path;
}

async function projectObjects(): Promise<string[]> {
  const filter = ['--filter', `label=dev.cmesh.project=${project}`];
  const out = await Promise.all([run(['ps', '-aq', ...filter]), run(['network', 'ls', '-q', ...filter]), run(['volume', 'ls', '-q', ...filter])]);
  return out.join('\n').split('\n').filter(Boolean);
}

before(async () => {
  await requireDocker();
  image = await buildFixtureImage('echo');
  cli = await newCmeshCli({ CI: 'true' });
});

after(async () => {
  await cli?.teardown(project, runId);
});

test('bad input fails before anything starts: --timeout garbage (2), unwritable report path (2)', async () => {
  const file = await writeCompose('bad-input.yaml', `  web:\n    image: ${image}\n${labels}`);
  const t = await cli.cmesh(['-f', file, 'up', '--wait', '--timeout', 'garbage']);
  assert.equal(t.code, 2, t.stderr);
  assert.match(t.stderr, /--timeout takes seconds/);
  const r = await cli.cmesh(['-f', file, 'up', '--wait', '--timeout', '30', '--report', join(cli.work, 'nope', 'junit.xml')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--report .*does not exist/);
  assert.deepEqual(await projectContainers(project), []);
});

test('healthy project: exit 0, PASS per service, JUnit parses with one passing testcase per service', async () => {
  const [http, tcp] = [await freePort(), await freePort()];
  const file = await writeCompose(
    'healthy.yaml',
    `  web:\n    image: ${image}\n    ports: ["${http}:3000"]\n    deploy: { replicas: 2 }\n    healthcheck: { test: ["CMD", "node", "/app/healthcheck.mjs"], interval: 1s, timeout: 2s, retries: 3 }\n    x-cmesh:\n      health: { path: /healthz, interval: 250ms }\n${labels}` +
      `  raw:\n    image: ${image}\n    ports: ["${tcp}:3000"]\n    x-cmesh: { protocol: tcp }\n${labels}`,
  );
  const junit = join(cli.work, 'junit.xml');
  const json = join(cli.work, 'out.json');
  const r = await cli.cmesh(['-f', file, 'up', '--wait', '--timeout', '60', '--report', junit, '--report-json', json]);
  console.log(r.stdout);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^cmesh: verdict web PASS ready=2\/2$/m);
  assert.match(r.stdout, new RegExp(`^cmesh: {3}probe http://127\\.0\\.0\\.1:${http} ok GET / → 200$`, 'm'));
  assert.match(r.stdout, new RegExp(`^cmesh: {3}probe tcp://127\\.0\\.0\\.1:${tcp} ok connect → ok$`, 'm'));
  assert.match(r.stdout, /^cmesh: result PASS /m);
  assert.doesNotMatch(r.stdout + r.stderr, /\x1b\[/, 'CI=true output is plain');
  const doc = parseXml(await readFile(junit, 'utf8'));
  const cases = findAll(doc, 'testcase');
  assert.deepEqual(cases.map((c) => c.attrs['name']).sort(), ['raw', 'web']);
  assert.equal(findAll(doc, 'failure').length + findAll(doc, 'skipped').length, 0);
  assert.equal(JSON.parse(await readFile(json, 'utf8')).ok, true);
  await cli.ok(['-f', file, 'down', '-v'], 60_000);
  assert.deepEqual(await projectObjects(), [], 'down leaves nothing with the project label');
});

test('a healthcheck that never passes: exit 6 within timeout + 5 s, service named, its logs printed', async () => {
  const file = await writeCompose(
    'sick.yaml',
    `  sick:\n    image: ${image}\n    command: ["sh", "-c", "echo sick-service-says-hello; exec node /app/server.mjs"]\n    healthcheck: { test: ["CMD", "false"], interval: 1s, timeout: 1s, retries: 1 }\n${labels}`,
  );
  const junit = join(cli.work, 'sick.xml');
  const t0 = Date.now();
  const r = await cli.cmesh(['-f', file, 'up', '--wait', '--timeout', '8', '--report', junit]);
  const took = Date.now() - t0;
  console.log(`# unhealthy verdict after ${took} ms\n${r.stdout}${r.stderr}`);
  assert.equal(r.code, 6, `${r.stdout}\n${r.stderr}`);
  assert.ok(took < 13_000, `took ${took} ms`);
  assert.match(r.stdout, /^cmesh: verdict sick FAIL /m);
  assert.match(r.stdout, /sick-service-says-hello/);
  assert.match(r.stdout, /^cmesh: result FAIL .*failing=sick$/m);
  const failure = findAll(parseXml(await readFile(junit, 'utf8')), 'failure');
  assert.equal(failure.length, 1);
  assert.match(failure[0]!.text, /sick-service-says-hello/);
  await cli.ok(['-f', file, 'down', '-v'], 60_000);
  assert.deepEqual(await projectObjects(), []);
});

test('a build failure (RUN exit 3): exit 5, named in the verdict', async () => {
  await mkdir(join(cli.work, 'bad'), { recursive: true });
  await writeFile(join(cli.work, 'bad', 'Dockerfile'), 'FROM cmesh/node:local\nRUN exit 3\n');
  const file = await writeCompose(
    'broken.yaml',
    `  broken:\n    build: { context: ./bad, labels: { ${TEST_LABEL}: "true", ${RUN_LABEL}: ${runId} } }\n${labels}`,
  );
  const json = join(cli.work, 'broken.json');
  const r = await cli.cmesh(['-f', file, 'up', '--wait', '--timeout', '60', '--report-json', json]);
  assert.equal(r.code, 5, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^cmesh: verdict broken FAIL /m);
  assert.match(r.stdout, /code=CMESH_E_BUILD_FAILED/);
  const verdict = JSON.parse(await readFile(json, 'utf8'));
  assert.equal(verdict.exitCode, 5);
  await cli.cmesh(['-f', file, 'down', '-v'], 60_000);
  assert.deepEqual(await projectObjects(), []);
});
