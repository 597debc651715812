// Issue #13: new host libraries (a libc or openssl update) reach a running east-west gateway without a new container.
// The next daemon is handed "new libraries" (CMESH_GATEWAY_LIBS: a copy of the host's libc with bytes appended, so
// another runtime and another image, the same init) while 2 keep-alive and 2 fresh callers in a sibling container
// call a service by name: the planner keeps the gateway (its identity leaves the libraries out), the daemon delivers a
// runtime directory with them to /run/cmesh, and the supervisor swaps the worker onto it through its loader. Asserted:
// 0 failed calls, the same container, the new worker maps the delivered libc (/proc/<pid>/maps), not the image's.
// Then that runtime breaks (its node an empty file: the loader exits 127) and the worker is killed: the supervisor
// tries it 3 times, falls back to the image's node, says so once, and the callers are served again.
// Traffic only to containers on the network this test's project created.

import assert from 'node:assert/strict';
import { appendFile, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { linkedObjects } from '../../daemon/gateway-runtime.ts';
import { type CmeshCli, newCmeshCli, until } from '../helpers/cmesh-cli.ts';
import { buildFixtureImage, dockerTestFile, newRunId, requireDocker, run } from '../helpers/docker.ts';
import { eastWestCaller, failedCount, gatewayId as gatewayOf, type LoadResult, meshedWebCompose, mixedLoad } from '../helpers/east-west.ts';
import { loaderOf, otherImageTag, runtimeName, swapUnderLoad, teardownWithNewImage, workersOf } from '../helpers/gateway-runtime.ts';

await dockerTestFile();

const runId = newRunId('ewlibs');
const project = runId;
const LOAD_MS = 14_000;
let cli: CmeshCli | undefined;
/** The daemon's environment, read at each CLI call: CMESH_GATEWAY_LIBS set later gives the next daemon new libraries. */
const daemonEnv: NodeJS.ProcessEnv = {};
/** The image the gateway was made with (this branch's, shared like any gateway image: kept). */
let madeWith: string | undefined;
/** The gateway image with the new libc: made by this test only (unique bytes), removed after it. */
let newLibsImage: string | undefined;
/** The runtime directory the first test's swap delivered (with the new libc). */
let deliveredRuntime: string | undefined;

const caller = eastWestCaller(runId, `${project}_default`);

before(async () => {
  await requireDocker();
  const echo = await buildFixtureImage('echo');
  cli = await newCmeshCli(daemonEnv);
  await writeFile(join(cli.work, 'compose.yaml'), meshedWebCompose(project, runId, echo, 2));
});

after(() => teardownWithNewImage({ cli, project, runId, first: madeWith, made: newLibsImage, changed: daemonEnv['CMESH_GATEWAY_LIBS'] !== undefined }));

test('new host libraries under load: the same gateway container, its worker on the delivered libc, 0 failed calls', async () => {
  await cli!.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
  const gateway = await gatewayOf(project);
  assert.ok(gateway, 'the gateway runs');
  madeWith = (await run(['inspect', '--format', '{{.Config.Image}}', gateway])).trim();
  const hostRt = await runtimeName({});
  const onHost = await until('the worker on the host runtime', 30_000, async () => (await workersOf(gateway)).find((p) => p.exe === loaderOf(hostRt)), 500);
  assert.ok(onHost.libs.some((f) => f.startsWith(`/run/cmesh/${hostRt}/lib/libc.so`)), `the first worker maps the delivered libc: ${onHost.libs.join(', ')}`);

  // The "libc update": the host's libc with bytes appended (another hash; it still loads).
  const { libs } = await linkedObjects(process.execPath);
  const libc = libs.find((l) => /\/libc\.so/.test(l));
  assert.ok(libc, `node links libc: ${libs.join(', ')}`);
  const updates = join(cli!.work, 'libs');
  await mkdir(updates);
  await copyFile(libc, join(updates, basename(libc)));
  await appendFile(join(updates, basename(libc)), `\n# ${runId}\n`);
  const newRt = await runtimeName({ CMESH_GATEWAY_LIBS: updates });
  assert.notEqual(newRt, hostRt);
  deliveredRuntime = newRt;

  const { result, swapped } = await swapUnderLoad({ cli: cli!, caller, gateway, name: `${runId}-libs-load`, loadMs: LOAD_MS, runtime: newRt, daemonEnv, set: { CMESH_GATEWAY_LIBS: updates } });
  assert.ok(swapped < result.endedAt - 1000, `the swap happened inside the load window (${result.endedAt - swapped} ms before its end)`);
  assert.deepEqual({ keepAlive: result.keepAlive.fails, fresh: result.fresh.fails }, { keepAlive: {}, fresh: {} }, 'no failed call');
  assert.ok(result.keepAlive.ok > 300 && result.fresh.ok > 300, `both kinds of callers ran (${result.keepAlive.ok} keep-alive, ${result.fresh.ok} fresh)`);
  assert.equal(await gatewayOf(project), gateway, 'the same gateway container (and address)');

  // The old worker drains (killed at the 10 s bound at most): one worker left, mapping the delivered libraries only.
  const [worker] = await until('the old worker to be gone', 20_000, async () => {
    const workers = await workersOf(gateway);
    return workers.length === 1 ? workers : undefined;
  }, 500);
  assert.equal(worker!.exe, loaderOf(newRt), 'the worker runs through the new runtime directory loader');
  const mapped = worker!.libs.filter((f) => /\/lib(c|m|stdc\+\+|gcc_s)\.so/.test(f));
  assert.ok(mapped.length >= 2 && mapped.every((f) => f.startsWith(`/run/cmesh/${newRt}/lib/`)), `node's libraries from the new runtime only: ${worker!.libs.join(', ')}`);

  // The new daemon's image (the new libc in it) differs, and the gateway was kept on the old one: same identity.
  newLibsImage = await otherImageTag(cli!, madeWith);
  assert.ok(newLibsImage && newLibsImage !== madeWith, `another image tag for the new libraries (${newLibsImage} vs ${madeWith})`);
  await cli!.ok(['up', '-d', '--wait', '--timeout', '60'], 120_000);
  assert.equal(await gatewayOf(project), gateway, 'still the same gateway container after another up');
});

test('the delivered runtime breaks: after 3 early exits the worker runs on the image node, logged once, calls served', async () => {
  assert.ok(deliveredRuntime, 'the first test delivered a runtime');
  const gateway = await gatewayOf(project);
  assert.ok(gateway, 'the gateway runs');
  const rt = `/run/cmesh/${deliveredRuntime}`;
  assert.match(await run(['logs', gateway]), new RegExp(`at ${rt}/node through the loader ${rt}/ld\\.so`), 'the worker names its loader and node');
  // Renamed aside, never written: the runtime's files are hard links of the host's node and libraries.
  const breakIt = `const fs=require('fs');fs.renameSync('${rt}/node','${rt}/node.broken');fs.writeFileSync('${rt}/node','',{mode:0o755})`;
  await run(['exec', gateway, '/usr/local/bin/node', '-e', breakIt]);
  const killWorkers = `const fs=require('fs');for(const p of fs.readdirSync('/proc')){if(!/^\\d+$/.test(p))continue;try{if(/worker-[0-9a-f]{16}\\.mjs/.test(fs.readFileSync('/proc/'+p+'/cmdline','utf8')))process.kill(+p,'SIGKILL')}catch{}}`;
  await run(['exec', gateway, '/usr/local/bin/node', '-e', killWorkers]);
  const fallback = "starting it on the supervisor's node /usr/local/bin/node from now on";
  const logs = await until('the supervisor to fall back to its own node', 30_000, async () => {
    const out = await run(['logs', gateway]);
    return out.includes(fallback) ? out : undefined;
  }, 250);
  assert.equal(logs.split(fallback).length - 1, 1, 'the fallback is logged once');
  assert.match(logs, new RegExp(`exited 3 times in a row soon after it started on ${rt} \\(last: 127 after \\d+ ms\\)`));
  const [worker] = await until('the worker on the image node', 20_000, async () => {
    const workers = await workersOf(gateway);
    return workers.length === 1 && workers[0]!.exe === '/usr/local/bin/node' ? workers : undefined;
  }, 250);
  assert.ok(worker);
  const result = (await caller(mixedLoad('web', 3000, 4000), 60_000, `${runId}-fallback-load`)) as LoadResult;
  process.stdout.write(`# after the fallback: keep-alive ${result.keepAlive.ok} ok, ${failedCount(result.keepAlive)} failed; fresh ${result.fresh.ok} ok, ${failedCount(result.fresh)} failed\n`);
  assert.deepEqual({ keepAlive: result.keepAlive.fails, fresh: result.fresh.fails }, { keepAlive: {}, fresh: {} }, 'no failed call on the fallback');
  assert.ok(result.keepAlive.ok > 50 && result.fresh.ok > 50, `calls served on the fallback (${result.keepAlive.ok} keep-alive, ${result.fresh.ok} fresh)`);
});
