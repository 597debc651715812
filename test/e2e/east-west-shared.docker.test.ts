// The daemon's shared east-west gateway (the default; issue #15), on the real engine: two projects each with a meshed
// `web` are answered by name through one gateway container that neither owns. Each caller reaches its own project's
// replicas only, by the shared container's address on its own network; the other project's address there is not
// reachable from it. Killed, it is started again by the next pass. `down` of one project leaves the other served; the
// daemon's stop removes the shared container once no project is on it. Traffic only to containers on networks this
// test's projects created.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { homeId, SHARED_GATEWAY_LABEL } from '../../daemon/gateway-shared.ts';
import { type CmeshCli, newCmeshCli, until } from '../helpers/cmesh-cli.ts';
import { cleanupCmeshProjects } from '../helpers/cmesh-project-cleanup.ts';
import { buildFixtureImage, dockerTestFile, newRunId, requireDocker, run } from '../helpers/docker.ts';
import { addressOn, type Call, eastWestCaller, httpCalls, meshedWebCompose } from '../helpers/east-west.ts';

await dockerTestFile();

const runId = newRunId('ewshared');
const projects = [`${runId}a`, `${runId}b`] as const;
let cli: CmeshCli | undefined;

before(async () => {
  await requireDocker();
  const echo = await buildFixtureImage('echo');
  cli = await newCmeshCli({ CMESH_GATEWAY_SHARED: '1' });
  for (const p of projects) await writeFile(join(cli.work, `${p}.yaml`), meshedWebCompose(p, runId, echo, 2));
});

after(async () => {
  for (const p of projects) await cli?.cmesh(['-f', `${p}.yaml`, 'down', '-v'], 60_000).catch(() => undefined);
  await cli?.teardown(projects[0], runId);
  await cleanupCmeshProjects(projects).catch(() => undefined);
});

const shared = async (): Promise<string[]> =>
  (await run(['ps', '-aq', '--no-trunc', '--filter', `label=${SHARED_GATEWAY_LABEL}=${homeId(cli!.home)}`])).split('\n').filter(Boolean);

/** The short ids of a project's running web replicas (their hostnames: what the echo fixture answers with). */
async function webReplicas(project: string): Promise<string[]> {
  const out = await run(['ps', '-q', '--filter', `label=dev.cmesh.project=${project}`, '--filter', 'label=dev.cmesh.service=web']);
  return out.split('\n').filter(Boolean).sort();
}

/** Calls from a container on `project`'s network to web by name: all answered, by every one of its own replicas only. */
async function servedByOwnReplicas(project: string, gateway: string): Promise<void> {
  const network = `${project}_default`;
  const lookup = `require('node:dns').lookup('web', (e, a) => console.log(JSON.stringify(e ? e.code : a)))`;
  assert.equal(await eastWestCaller(runId, network)(lookup), await addressOn(gateway, network), `web resolves to the shared gateway on ${network}`);
  const own = await webReplicas(project);
  let seen = '';
  await until(`web answering by name in ${project}`, 30_000, async () => {
    const calls = (await eastWestCaller(runId, network)(httpCalls('web', 3000, 20))) as Call[];
    seen = JSON.stringify(calls.map((c) => c.error ?? `${c.service}@${c.by}`));
    const by = new Set(calls.map((c) => c.by ?? ''));
    return calls.every((c) => c.service === 'web' && own.includes(c.by ?? '')) && own.every((id) => by.has(id)) ? true : undefined;
  }, 500).catch((err: Error) => assert.fail(`${err.message}; own replicas ${JSON.stringify(own)}; last run: ${seen}`));
}

test('two projects are answered by name through one shared gateway, each by its own replicas; down and the daemon stop clean up', async () => {
  for (const p of projects) await cli!.ok(['-f', `${p}.yaml`, 'up', '-d', '--wait', '--timeout', '120'], 180_000);
  const ids = await shared();
  assert.equal(ids.length, 1, `one shared gateway: ${JSON.stringify(ids)}`);
  const gateway = ids[0]!;
  for (const p of projects) {
    assert.equal((await run(['ps', '-aq', '--filter', `name=^${p}-cmesh-gateway`])).trim(), '', `${p} has no gateway container of its own`);
  }
  const networks = Object.keys(JSON.parse(await run(['inspect', '--format', '{{json .NetworkSettings.Networks}}', gateway])) as object).sort();
  assert.deepEqual(networks, projects.map((p) => `${p}_default`), 'on both projects’ networks, and nothing else');
  for (const p of projects) await servedByOwnReplicas(p, gateway);

  // The other project's address on the shared container is not reachable from this project's network.
  const [a, b] = projects;
  const across = (await eastWestCaller(runId, `${a}_default`)(httpCalls(await addressOn(gateway, `${b}_default`), 3000, 1))) as Call[];
  assert.ok(across.every((c) => c.error !== undefined), `no answer across projects: ${JSON.stringify(across)}`);

  // Killed (a crash of the one container every project shares): the next pass starts it again, joined as before.
  await run(['kill', gateway]);
  await cli!.ok(['-f', `${a}.yaml`, 'up', '-d', '--wait', '--timeout', '120'], 180_000);
  assert.deepEqual(await shared(), [gateway], 'the same container, started again');
  await servedByOwnReplicas(a, gateway);

  // down of one: the shared gateway leaves its network (which goes) and goes on serving the other.
  await cli!.ok(['-f', `${a}.yaml`, 'down'], 60_000);
  assert.deepEqual(await shared(), [gateway], 'kept for the other project');
  const left = Object.keys(JSON.parse(await run(['inspect', '--format', '{{json .NetworkSettings.Networks}}', gateway])) as object);
  assert.deepEqual(left, [`${b}_default`]);
  await servedByOwnReplicas(b, gateway);

  // The last down, then the daemon's stop: nobody is on it, it goes.
  await cli!.ok(['-f', `${b}.yaml`, 'down'], 60_000);
  await cli!.ok(['daemon', 'stop'], 30_000);
  assert.deepEqual(await shared(), [], 'removed with the daemon');
});
