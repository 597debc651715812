// East-west readiness (issue #13 leftover): on a project's first `up` the gateway starts beside the replicas, and its
// proxy needs a few hundred ms to bind. A caller that depends on a meshed service with `condition: service_started`
// and calls it by name the moment it starts must not be refused meanwhile: its depends_on gate also waits until the
// gateway reports listeners for that service. Traffic only to containers on the network this test's project created.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { containerLogs, newRunId, run, waitForExit, dockerTestFile } from '../helpers/docker.ts';
import { echoSuite } from '../helpers/east-west.ts';
import { serviceLabels } from '../helpers/echo-project.ts';

await dockerTestFile();

const runId = newRunId('ewready');
const project = runId;
const suite = echoSuite(project, runId);

/**
 * The caller: busybox, so its first connection leaves a few ms after its start (node would take ~150 ms to boot).
 * From its first instant it connects to api:3000 (a new name lookup and connection each, closed at once: what is
 * counted is whether the name's address accepts), at most one every 5 ms, 300 in all (bounded; 1 s connect timeout
 * each), and prints the count of each outcome. `$$` is Compose's escape of `$`.
 */
const callerScript = [
  'i=0; ok=0; refused=0; other=0; last=',
  'while [ $i -lt 300 ]; do',
  '  if out=$(nc -w 1 api 3000 </dev/null 2>&1); then ok=$((ok+1));',
  '  else case "$out" in *refused*) refused=$((refused+1));; *) other=$((other+1)); last="$out";; esac; fi',
  '  i=$((i+1)); usleep 5000',
  'done',
  'echo "last failure: $last"',
  'echo "{\\"ok\\":$ok,\\"refused\\":$refused,\\"other\\":$other}"',
].join('\n').replaceAll('$', () => '$$');

function compose(): string {
  const probe = 'x-cmesh: { health: { path: /healthz, interval: 250ms, timeout: 500ms, rise: 1, fall: 2 } }';
  return [
    `name: ${project}`,
    'services:',
    '  api:',
    `    image: ${suite.echo}`,
    '    deploy: { replicas: 2 }',
    '    environment: { SERVICE_NAME: api }',
    '    expose: ["3000"]',
    `    ${probe}`,
    serviceLabels(runId).trimEnd(),
    '  caller:',
    '    image: cmesh/busybox:local',
    '    restart: "no"',
    '    depends_on: { api: { condition: service_started } }',
    `    command: ["sh", "-c", ${JSON.stringify(callerScript)}]`,
    serviceLabels(runId),
  ].join('\n');
}

test('a service_started dependent that calls a meshed service by name at once is never refused (first up, fresh gateway)', async () => {
  await writeFile(join(suite.cli!.work, 'compose.yaml'), compose());
  await suite.cli!.ok(['up', '-d'], 180_000);
  const name = `${project}-caller-1`;
  const code = await waitForExit(name, 60_000);
  const logs = await containerLogs(name);
  assert.equal(code, 0, logs);
  const result = JSON.parse(logs.trim().split('\n').at(-1)!) as { ok: number; refused: number; other: number };
  const gatewayLog = await run(['logs', '--tail', '8', `${project}-cmesh-gateway`]).catch((e: Error) => e.message);
  console.log(`caller: ${logs.trim()}`);
  assert.equal(result.refused, 0, `refused while the gateway started: ${JSON.stringify(result)}\n${gatewayLog}`);
  assert.ok(result.ok > 0, `no call answered: ${JSON.stringify(result)}\n${gatewayLog}`);
});
