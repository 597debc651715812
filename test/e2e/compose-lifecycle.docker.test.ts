// Issue #14 keys on the real engine: post_start runs as its user/working_dir/environment after start, pre_stop runs on
// scale down and `down` (it writes to a named volume read back afterwards), deploy.restart_policy.max_attempts stops
// the restarts, build.extra_hosts is visible to a RUN step, and a network_mode service:x dependent is recreated with
// x. No network traffic.

import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ExitCode } from '../../daemon/api/errors.ts';
import { type CmeshCli, newCmeshCli, projectContainers, sleep, until } from '../helpers/cmesh-cli.ts';
import { newRunId, RUN_LABEL, requireDocker, run, TEST_LABEL, dockerTestFile } from '../helpers/docker.ts';

await dockerTestFile();

const runId = newRunId('lifecycle');
const project = runId;
const flakyProject = `${runId}-flaky`;
const hookFailProject = `${runId}-hookfail`;
let cli: CmeshCli;

const labelMap = `{ ${TEST_LABEL}: "true", ${RUN_LABEL}: ${runId} }`;
const labels = `    labels: ${labelMap}\n`;
const sleeper = '    image: cmesh/busybox:local\n    command: ["sleep", "600"]\n    stop_grace_period: 1s\n';

/** The main project; `version` changes base's environment, which recreates it. */
const compose = (version: number): string => `  base:
${sleeper}    environment: { VERSION: "${version}" }
${labels}  sidecar:
${sleeper}    network_mode: "service:base"
${labels}  app:
${sleeper}    post_start:
      - command: ["sh", "-c", "echo \\"$$HOOK_VAR $(whoami) $(pwd)\\" > /tmp/post_start"]
        user: nobody
        working_dir: /tmp
        environment: { HOOK_VAR: from-hook }
${labels}  worker:
${sleeper}    deploy: { replicas: 2 }
    volumes: ["hooks:/hooks"]
    pre_stop:
      - command: ["sh", "-c", "echo stop $(hostname) >> /hooks/pre_stop"]
${labels}  built:
    build:
      context: ./built
      extra_hosts: ["buildhost.cmesh.test:10.254.1.2"]
      labels: ${labelMap}
    command: ["sleep", "600"]
    stop_grace_period: 1s
${labels}volumes:
  hooks:
    labels: ${labelMap}
`;

before(async () => {
  await requireDocker();
  cli = await newCmeshCli();
  await cli.writeCompose(project, compose(1));
  await mkdir(join(cli.work, 'built'), { recursive: true });
  await writeFile(join(cli.work, 'built', 'Dockerfile'), 'FROM cmesh/busybox:local\nRUN grep buildhost.cmesh.test /etc/hosts > /hosts-seen || true\n');
  await writeFile(
    join(cli.work, 'flaky.yaml'),
    `name: ${flakyProject}
services:
  flaky:
    image: cmesh/busybox:local
    command: ["sh", "-c", "echo run; sleep 1; exit 1"]
    deploy:
      restart_policy: { condition: on-failure, max_attempts: 2, delay: 500ms }
${labels}`,
  );
  await writeFile(
    join(cli.work, 'hookfail.yaml'),
    `name: ${hookFailProject}
services:
  app:
    image: cmesh/busybox:local
    command: ["sleep", "600"]
    restart: "no"
    post_start:
      - command: ["sh", "-c", "echo cannot warm up >&2; exit 3"]
${labels}`,
  );
});

after(async () => {
  await cli?.cmesh(['-f', 'flaky.yaml', 'down'], 30_000).catch(() => undefined);
  await cli?.cmesh(['-f', 'hookfail.yaml', 'down'], 30_000).catch(() => undefined);
  const stray = [...(await projectContainers(flakyProject).catch(() => [])), ...(await projectContainers(hookFailProject).catch(() => []))];
  if (stray.length > 0) await run(['rm', '-f', ...stray]).catch(() => undefined);
  await cli?.teardown(project, runId);
});

const sh = (container: string, script: string): Promise<string> => run(['exec', container, 'sh', '-c', script]);
const byService = async (): Promise<Map<string, string[]>> => {
  const out = new Map<string, string[]>();
  for (const r of await cli.ps()) out.set(r.service, [...(out.get(r.service) ?? []), r.name].sort());
  return out;
};
/** The hooks volume's pre_stop log, read by a labelled throwaway container. */
const preStopLog = async (): Promise<string[]> => {
  const text = await run(['run', '--rm', '--label', `${TEST_LABEL}=true`, '--label', `${RUN_LABEL}=${runId}`, '-v', `${project}_hooks:/hooks`, 'cmesh/busybox:local', 'sh', '-c', 'cat /hooks/pre_stop 2>/dev/null || true']);
  return text.split('\n').filter(Boolean);
};

test('post_start runs after start with its user, working_dir and environment; build.extra_hosts reaches RUN', { timeout: 180_000 }, async () => {
  await cli.ok(['up', '-d', '--wait', '--timeout', '120'], 170_000);
  const services = await byService();
  assert.equal(await sh(services.get('app')![0]!, 'cat /tmp/post_start'), 'from-hook nobody /tmp');
  assert.equal(await sh(services.get('built')![0]!, 'cat /hosts-seen'), '10.254.1.2\tbuildhost.cmesh.test');
});

test('a network_mode service:x dependent is recreated with x and joins the new namespace', { timeout: 120_000 }, async () => {
  const before = await byService();
  const sidecar = before.get('sidecar')![0]!;
  const oldBase = await run(['inspect', '-f', '{{.Id}}', before.get('base')![0]!]);
  await cli.writeCompose(project, compose(2));
  await cli.ok(['up', '-d', '--wait', '--timeout', '60'], 110_000);
  const base = before.get('base')![0]!;
  const newBase = await run(['inspect', '-f', '{{.Id}}', base]);
  assert.notEqual(newBase, oldBase, 'base was recreated');
  assert.equal(await run(['inspect', '-f', '{{.HostConfig.NetworkMode}}', sidecar]), `container:${newBase}`);
  assert.equal(await sh(sidecar, 'cat /sys/class/net/eth0/address'), await sh(base, 'cat /sys/class/net/eth0/address'));
});

test('pre_stop runs before a scale down and before `down`', { timeout: 120_000 }, async () => {
  const workers = (await byService()).get('worker')!;
  const hostnames = await Promise.all(workers.map((w) => sh(w, 'hostname')));
  assert.deepEqual(await preStopLog(), []);
  await cli.ok(['scale', 'worker=1'], 60_000);
  assert.deepEqual(await preStopLog(), [`stop ${hostnames[1]}`], 'the highest replica went, after its pre_stop');
  await cli.ok(['down'], 60_000);
  assert.deepEqual(await preStopLog(), [`stop ${hostnames[1]}`, `stop ${hostnames[0]}`]);
});

test('deploy.restart_policy.max_attempts: restarted twice, then left exited', { timeout: 90_000 }, async () => {
  await cli.ok(['-f', 'flaky.yaml', 'up', '-d'], 60_000);
  const [flaky] = await projectContainers(flakyProject);
  assert.ok(flaky, 'the flaky container exists');
  const runs = async (): Promise<number> => (await run(['logs', flaky!])).split('\n').filter((l) => l === 'run').length;
  await until('three runs (the first and two restarts)', 40_000, async () => ((await runs()) >= 3 ? true : undefined), 250);
  // Well past the 500 ms delay: no fourth run comes, and the container stays exited.
  await sleep(5_000);
  assert.equal(await runs(), 3);
  assert.equal(await run(['inspect', '-f', '{{.State.Status}}', flaky!]), 'exited');
});

test('a failing post_start fails `up` with CMESH_E_HOOK_FAILED and the replica is not left running', { timeout: 90_000 }, async () => {
  const r = await cli.cmesh(['-f', 'hookfail.yaml', 'up', '-d', '--wait', '--timeout', '30'], 80_000);
  assert.equal(r.code, ExitCode.unhealthy, r.stderr);
  assert.match(r.stderr, /CMESH_E_HOOK_FAILED/);
  assert.match(r.stderr, /post_start\[0\]/);
  assert.match(r.stderr, /cannot warm up/);
  const [app] = await projectContainers(hookFailProject);
  assert.ok(app, 'the container exists');
  assert.equal(await run(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', app!]), 'exited 137');
});
