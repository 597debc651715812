// Issue #13: a new host node binary reaches a running east-west gateway without a new container. The next daemon is
// handed a "new node" (CMESH_GATEWAY_NODE: a copy of node with bytes appended, so another hash, another image tag,
// the same init) while keep-alive and fresh callers in a sibling container call a service by name: the planner keeps
// the gateway, the daemon puts a new runtime directory (that node, its loader and libraries) in /run/cmesh, and the
// supervisor swaps the worker onto it. Asserted: 0 failed calls, the same container, the new worker's
// /proc/<pid>/exe is the new runtime's loader. Traffic only to containers on the network this test's project created.

import assert from 'node:assert/strict';
import { appendFile, copyFile, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CmeshCli, newCmeshCli, until } from '../helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, requireDocker, run, dockerTestFile } from '../helpers/docker.ts';
import { eastWestCaller, failedCount as failed, gatewayId as gatewayOf, type LoadResult, meshedWebCompose, mixedLoad } from '../helpers/east-west.ts';
import { loaderOf, otherImageTag, runtimeName, swapUnderLoad, teardownWithNewImage, workersOf } from '../helpers/gateway-runtime.ts';

await dockerTestFile();

const runId = newRunId('ewnode');
const project = runId;
const network = `${project}_default`;
const LOAD_MS = 14_000;
let cli: CmeshCli | undefined;
/** The daemon's environment, read at each CLI call: CMESH_GATEWAY_NODE set later makes the next daemon's node new. */
const cliEnv: NodeJS.ProcessEnv = {};
/** The gateway image of the copied node: made by this test only (unique bytes), removed after it. */
let copiedNodeImage: string | undefined;
/** The image the gateway was made with (this branch's, shared like any gateway image: kept). */
let firstImageTag: string | undefined;

const caller = eastWestCaller(runId, network);
const gatewayId = () => gatewayOf(project);

before(async () => {
  await requireDocker();
  const echo = await buildFixtureImage('echo');
  cli = await newCmeshCli(cliEnv);
  const compose = meshedWebCompose(project, runId, echo, 2);
  await writeFile(join(cli.work, 'compose.yaml'), compose);
});

after(() => teardownWithNewImage({ cli, project, runId, first: firstImageTag, made: copiedNodeImage, changed: cliEnv['CMESH_GATEWAY_NODE'] !== undefined }));

test('a new host node under load: the same gateway container, its worker on the new node, 0 failed calls', async () => {
  await cli!.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
  const gateway = await gatewayId();
  assert.ok(gateway, 'the gateway runs');
  const firstImage = (await run(['inspect', '--format', '{{.Config.Image}}', gateway])).trim();
  firstImageTag = firstImage;
  const oldRuntime = await runtimeName({});
  await until('the worker on the host runtime', 30_000, async () => ((await workersOf(gateway)).some((p) => p.exe === loaderOf(oldRuntime)) ? true : undefined), 500);
  await until('web answering by name', 30_000, async () => {
    const r = (await caller(mixedLoad('web', 3000, 500), 30_000)) as LoadResult;
    return r.keepAlive.ok > 0 && r.fresh.ok > 0 && failed(r.keepAlive) + failed(r.fresh) === 0 ? true : undefined;
  }, 500);

  // The "new node": the same binary with bytes appended (another hash, it still runs).
  const copy = join(cli!.work, 'node-new');
  await copyFile(await realpath(process.execPath), copy);
  await appendFile(copy, `\n# ${runId}\n`);
  const newRuntime = await runtimeName({ CMESH_GATEWAY_NODE: copy });

  const name = `${runId}-node-load`;
  const { result, swapped } = await swapUnderLoad({ cli: cli!, caller, gateway, name, loadMs: LOAD_MS, runtime: newRuntime, daemonEnv: cliEnv, set: { CMESH_GATEWAY_NODE: copy } });
  assert.ok(swapped < result.endedAt - 1000, `the swap happened inside the load window (${result.endedAt - swapped} ms before its end)`);
  // A failed call is explained by the gateway's own account of the swap (supervisor and worker lines, timestamped).
  if (failed(result.keepAlive) + failed(result.fresh) > 0) process.stdout.write(`# gateway log:\n${(await run(['logs', '--tail', '60', gateway])).replace(/^/gm, '#   ')}\n`);
  for (const [name, m] of [['keep-alive', result.keepAlive], ['fresh', result.fresh]] as const) {
    assert.deepEqual(m.fails, {}, `${name} callers: no failed call`);
    assert.ok(m.ok > 300, `${name} callers ran (${m.ok} calls)`);
  }
  assert.equal(await gatewayId(), gateway, 'the same gateway container (and address)');
  // The old worker drains (its connections finish, killed at the 10 s bound): then one worker is left, on the new node.
  await until('the old worker to be gone', 20_000, async () => ((await workersOf(gateway)).length === 1 ? true : undefined), 500);
  const workers = await workersOf(gateway);
  assert.deepEqual(workers.map((p) => p.exe), [loaderOf(newRuntime)], `one worker, on the new node: ${JSON.stringify(workers.map((w) => w.exe))}`);

  // The new daemon's image (the copied node in it) differs, and the gateway was kept on the old one: same identity.
  copiedNodeImage = await otherImageTag(cli!, firstImage);
  assert.ok(copiedNodeImage && copiedNodeImage !== firstImage, `another image tag for the new node (${copiedNodeImage} vs ${firstImage})`);
  // The next pass changes nothing: no `image changed` recreate.
  await cli!.ok(['up', '-d', '--wait', '--timeout', '60'], 120_000);
  assert.equal(await gatewayId(), gateway, 'still the same gateway container after another up');
});
