// network_mode on the real engine: `service:<name>` shares that service's network namespace (same interfaces and MAC),
// `none` has only loopback, and the dependent starts after the service it joins. No network traffic.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type CmeshCli, newCmeshCli } from '../helpers/cmesh-cli.ts';
import { newRunId, RUN_LABEL, requireDocker, run, TEST_LABEL, dockerTestFile } from '../helpers/docker.ts';

await dockerTestFile();

const runId = newRunId('netmode');
const project = runId;
let cli: CmeshCli;

const labels = `    labels:\n      ${TEST_LABEL}: "true"\n      ${RUN_LABEL}: ${runId}\n`;

before(async () => {
  await requireDocker();
  cli = await newCmeshCli();
  await cli.writeCompose(
    project,
    `  base:
    image: cmesh/busybox:local
    command: ["sleep", "600"]
${labels}  sidecar:
    image: cmesh/busybox:local
    command: ["sleep", "600"]
    network_mode: "service:base"
${labels}  isolated:
    image: cmesh/busybox:local
    command: ["sleep", "600"]
    network_mode: none
${labels}`,
  );
});

after(async () => {
  await cli?.teardown(project, runId);
});

const sh = (container: string, script: string): Promise<string> => run(['exec', container, 'sh', '-c', script]);

test('service:<name> shares the network namespace of its first replica; none has only loopback', async () => {
  await cli.ok(['up', '-d', '--wait', '--timeout', '60']);
  const byService = new Map((await cli.ps()).map((r) => [r.service, r.name]));
  const base = byService.get('base')!;
  const sidecar = byService.get('sidecar')!;
  const isolated = byService.get('isolated')!;
  assert.equal(await sh(sidecar, 'cat /sys/class/net/eth0/address'), await sh(base, 'cat /sys/class/net/eth0/address'));
  assert.equal(await sh(isolated, 'ls /sys/class/net'), 'lo');
  const mode = await run(['inspect', '-f', '{{.HostConfig.NetworkMode}}', sidecar]);
  // The engine stores the joined container by id.
  assert.equal(mode, `container:${await run(['inspect', '-f', '{{.Id}}', base])}`);
  // The dependent was started after the service it joins (an implicit depends_on).
  const started = async (c: string): Promise<number> => Date.parse(await run(['inspect', '-f', '{{.State.StartedAt}}', c]));
  assert.ok((await started(sidecar)) >= (await started(base)), 'sidecar started after base');
});
