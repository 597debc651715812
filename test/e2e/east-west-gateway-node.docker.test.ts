// Issue #13: a new host node binary reaches a running east-west gateway without a new container. The next daemon is
// handed a "new node" (CMESH_GATEWAY_NODE: a copy of node with bytes appended, so another hash, another image tag,
// the same supervisor and libraries) while keep-alive and fresh callers in a sibling container call a service by name:
// the planner keeps the gateway, the daemon puts the copy in /run/cmesh, and the supervisor swaps the worker onto it.
// Asserted: 0 failed calls, the same container, the new worker's /proc/<pid>/exe is the new runtime. Traffic only to
// containers on the network this test's project created.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, copyFile, readFile, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CmeshCli, newCmeshCli, sleep, until } from '../helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, requireDocker, run, dockerTestFile } from '../helpers/docker.ts';
import { eastWestCaller, failedCount as failed, gatewayId as gatewayOf, type LoadResult, loadStarted, meshedWebCompose, mixedLoad } from '../helpers/east-west.ts';

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

/** The runtime's name in /run/cmesh: `node-` and the first 16 hex of the binary's sha256 (gateway-runtime.ts). */
async function runtimeName(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return `node-${h.digest('hex').slice(0, 16)}`;
}

/** exe → command line of every process in the gateway, read with the image's own node (no shell in it). */
async function processesOf(container: string): Promise<{ exe: string; cmd: string }[]> {
  const script = `const fs=require('fs');const out=[];for(const p of fs.readdirSync('/proc')){if(!/^\\d+$/.test(p)||p===String(process.pid))continue;try{out.push({exe:fs.readlinkSync('/proc/'+p+'/exe'),cmd:fs.readFileSync('/proc/'+p+'/cmdline','utf8').split('\\0').join(' ')})}catch{}}console.log(JSON.stringify(out))`;
  return JSON.parse(await run(['exec', container, '/usr/local/bin/node', '-e', script])) as { exe: string; cmd: string }[];
}

before(async () => {
  await requireDocker();
  const echo = await buildFixtureImage('echo');
  cli = await newCmeshCli(cliEnv);
  const compose = meshedWebCompose(project, runId, echo, 2);
  await writeFile(join(cli.work, 'compose.yaml'), compose);
});

/** The tag the daemon with the copied node computed (its tag cache's other entry), once it has computed it. */
async function copiedNodeTag(firstImage: string): Promise<string | undefined> {
  const read = async () => {
    const cache = JSON.parse(await readFile(join(cli!.home, 'gateway-image-tag.json'), 'utf8')) as { entries: { tag: string }[] };
    return cache.entries.map((e) => e.tag).find((tag) => tag !== firstImage);
  };
  return until('the new node image tag', 30_000, read, 250).catch(() => undefined);
}

after(async () => {
  // Removed only once the background build is over (an image still building cannot be removed); never forced.
  const tag = copiedNodeImage ?? (firstImageTag && cliEnv['CMESH_GATEWAY_NODE'] ? await copiedNodeTag(firstImageTag) : undefined);
  await cli?.teardown(project, runId);
  if (tag && tag !== firstImageTag) {
    await until('the new node image to be built', 120_000, async () => ((await run(['image', 'inspect', tag]).catch(() => '')) ? true : undefined), 1000).catch(() => undefined);
    await run(['rmi', tag]).catch(() => undefined);
  }
});

test('a new host node under load: the same gateway container, its worker on the new node, 0 failed calls', async () => {
  await cli!.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
  const gateway = await gatewayId();
  assert.ok(gateway, 'the gateway runs');
  const firstImage = (await run(['inspect', '--format', '{{.Config.Image}}', gateway])).trim();
  firstImageTag = firstImage;
  const oldRuntime = await runtimeName(await realpath(process.execPath));
  await until('the worker on the host node runtime', 30_000, async () => ((await processesOf(gateway)).some((p) => p.exe === `/run/cmesh/${oldRuntime}`) ? true : undefined), 500);
  await until('web answering by name', 30_000, async () => {
    const r = (await caller(mixedLoad('web', 3000, 500), 30_000)) as LoadResult;
    return r.keepAlive.ok > 0 && r.fresh.ok > 0 && failed(r.keepAlive) + failed(r.fresh) === 0 ? true : undefined;
  }, 500);

  // The "new node": the same binary with bytes appended (another hash, it still runs).
  const copy = join(cli!.work, 'node-new');
  await copyFile(await realpath(process.execPath), copy);
  await appendFile(copy, `\n# ${runId}\n`);
  const newRuntime = await runtimeName(copy);

  const load = caller(mixedLoad('web', 3000, LOAD_MS), 60_000, `${runId}-node-load`) as Promise<LoadResult>;
  await loadStarted(`${runId}-node-load`);
  await sleep(1500);
  await cli!.killDaemon();
  cliEnv['CMESH_GATEWAY_NODE'] = copy;
  const startedAt = Date.now();
  await cli!.ok(['daemon', 'start'], 30_000);
  const swapped = await until('the gateway to serve from a worker on the new node', 30_000, async () => {
    const logs = await run(['logs', gateway]);
    const asked = logs.split(`on /run/cmesh/${newRuntime}`).slice(1).join('');
    return /supervisor: now serving from \/run\/cmesh\/worker-[0-9a-f]{16}\.mjs/.test(asked) ? Date.now() : undefined;
  }, 250);
  const result = await load;
  const line = (name: string, m: LoadResult['fresh']) => `${name}: ${m.ok} ok, ${failed(m)} failed ${JSON.stringify(m.fails)}, longest gap ${m.longestGapMs} ms`;
  process.stdout.write(
    `# east-west gateway new node under load (${LOAD_MS} ms; new daemon started at +${startedAt - result.startedAt} ms, worker on the new node serving ${swapped - startedAt} ms later)\n` +
      `#   ${line('keep-alive', result.keepAlive)}\n#   ${line('fresh-connection', result.fresh)}\n`,
  );
  assert.ok(swapped < result.endedAt - 1000, `the swap happened inside the load window (${result.endedAt - swapped} ms before its end)`);
  // A failed call is explained by the gateway's own account of the swap (supervisor and worker lines, timestamped).
  if (failed(result.keepAlive) + failed(result.fresh) > 0) process.stdout.write(`# gateway log:\n${(await run(['logs', '--tail', '60', gateway])).replace(/^/gm, '#   ')}\n`);
  for (const [name, m] of [['keep-alive', result.keepAlive], ['fresh', result.fresh]] as const) {
    assert.deepEqual(m.fails, {}, `${name} callers: no failed call`);
    assert.ok(m.ok > 300, `${name} callers ran (${m.ok} calls)`);
  }
  assert.equal(await gatewayId(), gateway, 'the same gateway container (and address)');
  // The old worker drains (its connections finish, killed at the 10 s bound): then one worker is left, on the new node.
  const workersOf = async () => (await processesOf(gateway)).filter((p) => /worker-[0-9a-f]{16}\.mjs/.test(p.cmd));
  await until('the old worker to be gone', 20_000, async () => ((await workersOf()).length === 1 ? true : undefined), 500);
  const workers = await workersOf();
  assert.deepEqual(workers.map((p) => p.exe), [`/run/cmesh/${newRuntime}`], `one worker, on the new node: ${JSON.stringify(workers)}`);

  // The new daemon's image (the copied node in it) differs, and the gateway was kept on the old one: same identity.
  copiedNodeImage = await copiedNodeTag(firstImage);
  assert.ok(copiedNodeImage && copiedNodeImage !== firstImage, `another image tag for the new node (${copiedNodeImage} vs ${firstImage})`);
  // The next pass changes nothing: no `image changed` recreate.
  await cli!.ok(['up', '-d', '--wait', '--timeout', '60'], 120_000);
  assert.equal(await gatewayId(), gateway, 'still the same gateway container after another up');
});
