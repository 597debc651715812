// Issue #13 point 5, measured: the daemon is SIGKILLed while callers in a sibling container call a service by name
// through the east-west gateway, then started again. Keep-alive and fresh-connection callers run at a bounded rate;
// the test asserts 0 failed calls and a longest gap between successive answers under 1 s, and prints the numbers for
// the README. Then the same load across a gateway code upgrade (a new worker bundle, as a new cmesh brings): the
// gateway container stays, its supervisor swaps the worker; and across a new supervisor module (as a new cmesh brings):
// the same container and primary process, init hands over to it in place. Traffic only to containers on the network
// this test's project created.

import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CmeshCli, newCmeshCli, sleep, until } from '../helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, requireDocker, run, dockerTestFile } from '../helpers/docker.ts';
import { eastWestCaller, failedCount as failed, gatewayDir, gatewayId as gatewayOf, type LoadResult, loadStarted, type ModeResult, meshedWebCompose, mixedLoad } from '../helpers/east-west.ts';

await dockerTestFile();

const runId = newRunId('ewfailopen');
const project = runId;
const network = `${project}_default`;
const LOAD_MS = 12_000;
let cli: CmeshCli | undefined;
/** The daemon's environment, read at each CLI call: a new salt makes the next daemon's worker bundle (or supervisor) a new one. */
const cliEnv: NodeJS.ProcessEnv = { CMESH_GATEWAY_WORKER_SALT: 'first' };

const caller = eastWestCaller(runId, network);
const gatewayId = () => gatewayOf(project);

before(async () => {
  await requireDocker();
  const echo = await buildFixtureImage('echo');
  cli = await newCmeshCli(cliEnv);
  const compose = meshedWebCompose(project, runId, echo, 3);
  await writeFile(join(cli.work, 'compose.yaml'), compose);
});

after(async () => {
  await cli?.teardown(project, runId);
});

/** Starts the load, and 1.5 s into it replaces the daemon by one with `change` applied to its environment. */
async function newDaemonUnderLoad(name: string, change: () => void): Promise<{ load: Promise<LoadResult>; startedAt: number }> {
  const load = caller(mixedLoad('web', 3000, LOAD_MS), 60_000, `${runId}-${name}`) as Promise<LoadResult>;
  await loadStarted(`${runId}-${name}`);
  await sleep(1500);
  await cli!.killDaemon();
  change();
  const startedAt = Date.now();
  await cli!.ok(['daemon', 'start'], 30_000);
  return { load, startedAt };
}

/** Prints both caller modes' counts under `title` and asserts 0 failed, enough calls and no gap of 1 s. */
function assertServed(title: string, result: LoadResult): void {
  const line = (name: string, m: ModeResult) => `${name}: ${m.ok} ok, ${failed(m)} failed ${JSON.stringify(m.fails)}, longest gap ${m.longestGapMs} ms`;
  process.stdout.write(`# ${title}\n#   ${line('keep-alive', result.keepAlive)}\n#   ${line('fresh-connection', result.fresh)}\n`);
  for (const [name, m] of [['keep-alive', result.keepAlive], ['fresh', result.fresh]] as const) {
    assert.deepEqual(m.fails, {}, `${name} callers: no failed call`);
    assert.ok(m.ok > 500, `${name} callers ran (${m.ok} calls)`);
    assert.ok(m.longestGapMs < 1000, `${name} callers: longest gap ${m.longestGapMs} ms < 1 s`);
  }
}

test('point 5: daemon SIGKILL during east-west load: keep-alive and fresh callers fail nothing, no gap reaches 1 s', async () => {
  await cli!.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
  const gateway = await gatewayId();
  assert.ok(gateway, 'the gateway runs');
  // Warm: every caller mode answers before the measured run (the gateway's health has risen).
  await until('web answering by name', 30_000, async () => {
    const r = (await caller(mixedLoad('web', 3000, 500), 30_000)) as LoadResult;
    return r.keepAlive.ok > 0 && r.fresh.ok > 0 && Object.keys({ ...r.keepAlive.fails, ...r.fresh.fails }).length === 0 ? true : undefined;
  }, 500);

  const load = caller(mixedLoad('web', 3000, LOAD_MS), 60_000, `${runId}-sigkill-load`) as Promise<LoadResult>;
  // The kill lands 1.5 s into the load (counted from the load's own start, not the container's), the restart 1.5 s later.
  await loadStarted(`${runId}-sigkill-load`);
  await sleep(1500);
  const killedAt = Date.now();
  const pid = await cli!.killDaemon();
  assert.ok(pid, 'a daemon was running and is now dead');
  await sleep(1500);
  const restartAt = Date.now();
  await cli!.ok(['daemon', 'start'], 30_000);
  const restartedAt = Date.now();
  const result = await load;

  const line = (name: string, m: ModeResult): string =>
    `${name}: ${m.ok} ok, ${failed(m)} failed ${JSON.stringify(m.fails)}, longest gap ${m.longestGapMs} ms (ended ${m.gapEndedAt - killedAt} ms after the kill)`;
  process.stdout.write(
    `# east-west daemon SIGKILL under load (${LOAD_MS} ms, kill at +${killedAt - result.startedAt} ms, daemon down ${restartAt - killedAt} ms, ` +
      `'daemon start' took ${restartedAt - restartAt} ms)\n#   ${line('keep-alive', result.keepAlive)}\n#   ${line('fresh-connection', result.fresh)}\n`,
  );
  // The kill and the restart both fell inside the load window, with time to spare after the restart.
  assert.ok(killedAt > result.startedAt + 500, `the kill came after the load began (${killedAt - result.startedAt} ms)`);
  assert.ok(restartedAt < result.endedAt - 2000, `the restart finished 2 s before the load ended (${result.endedAt - restartedAt} ms)`);
  for (const [name, m] of [['keep-alive', result.keepAlive], ['fresh', result.fresh]] as const) {
    assert.deepEqual(m.fails, {}, `${name} callers: no failed call`);
    assert.ok(m.ok > 500, `${name} callers ran (${m.ok} calls)`);
    assert.ok(m.longestGapMs < 1000, `${name} callers: longest gap ${m.longestGapMs} ms < 1 s`);
  }
  // The next daemon adopted the same gateway (no second one, no swap).
  await cli!.ok(['up', '-d', '--wait', '--timeout', '60'], 120_000);
  assert.equal(await gatewayId(), gateway, 'the same gateway container, adopted');
});

test('gateway code upgrade under load: the same container swaps its worker; keep-alive and fresh callers fail nothing', async () => {
  const gateway = await gatewayId();
  assert.ok(gateway);
  // A new cmesh: the next daemon's worker bundle differs (the salt stands in for new code).
  const { load, startedAt: swapAsked } = await newDaemonUnderLoad('upgrade-load', () => {
    cliEnv['CMESH_GATEWAY_WORKER_SALT'] = 'second';
  });
  const swapped = await until('the gateway to serve from the new worker', 20_000, async () => {
    const logs = await run(['logs', gateway]);
    return /supervisor: now serving from \/run\/cmesh\/worker-[0-9a-f]{16}\.mjs/.test(logs.split('asking the supervisor to swap').at(-1) ?? '') ? Date.now() : undefined;
  }, 250);
  const result = await load;
  assertServed(`east-west gateway worker swap under load (${LOAD_MS} ms; new daemon started at +${swapAsked - result.startedAt} ms, new worker serving ${swapped - swapAsked} ms later)`, result);
  assert.ok(swapped < result.endedAt - 1000, `the swap happened inside the load window (${result.endedAt - swapped} ms before its end)`);
  assert.equal(await gatewayId(), gateway, 'the same gateway container (and address): only its worker changed');
  // The next pass finds nothing to change: the container's spec does not depend on the worker bundle.
  await cli!.ok(['up', '-d', '--wait', '--timeout', '60'], 120_000);
  assert.equal(await gatewayId(), gateway);
});

test('gateway supervisor upgrade under load: the same container and primary process take a new supervisor module; 0 failed', async () => {
  const gateway = await gatewayId();
  assert.ok(gateway);
  // The primary (init and its supervisor) as the host sees it: `docker top`, no shell needed in the image.
  const primaryPid = async () => (await run(['top', gateway, '-eo', 'pid,args'])).split('\n').find((l) => l.includes('/gateway/init.mjs'))?.trim().split(/\s+/)[0];
  const pidBefore = await primaryPid();
  assert.ok(pidBefore, 'init runs as the gateway primary');
  const pointer = async () => JSON.parse(await readFile(join(await gatewayDir(cli!.home, project), 'worker.json'), 'utf8')) as { supervisor?: string };
  const first = (await pointer()).supervisor;
  assert.match(first ?? '', /^supervisor-[0-9a-f]{16}\.mjs$/, 'the daemon delivered a supervisor module');
  // A new cmesh whose supervisor differs (the salt stands in for new supervisor code); the worker code is the same.
  const { load, startedAt } = await newDaemonUnderLoad('supervisor-load', () => {
    cliEnv['CMESH_GATEWAY_SUPERVISOR_SALT'] = 'second';
  });
  const wanted = await until('worker.json to name a new supervisor', 20_000, async () => {
    const named = (await pointer()).supervisor;
    return named !== first ? named : undefined;
  }, 250);
  const swapped = await until('the new supervisor to take over and swap the worker', 20_000, async () => {
    const after = (await run(['logs', gateway])).split(`handing over to /run/cmesh/${wanted}`).at(1) ?? '';
    // Both log lines carry the primary's pid (in the container): the module that asked and the one that took over.
    const asked = after.length > 0 && /^ \(pid (\d+)\)/.exec(after)?.[1];
    const took = after.includes(`supervisor: /run/cmesh/${wanted} took over in pid ${asked}`);
    return took && /supervisor: now serving from \/run\/cmesh\/worker-[0-9a-f]{16}\.mjs/.test(after) ? Date.now() : undefined;
  }, 250);
  const result = await load;
  assertServed(`east-west gateway supervisor hand-over under load (${LOAD_MS} ms; new daemon started at +${startedAt - result.startedAt} ms, new supervisor serving a new worker ${swapped - startedAt} ms later)`, result);
  assert.ok(swapped < result.endedAt - 1000, `the hand-over happened inside the load window (${result.endedAt - swapped} ms before its end)`);
  assert.equal(await gatewayId(), gateway, 'the same gateway container (and address)');
  assert.equal(await primaryPid(), pidBefore, 'the same primary process, now running the new supervisor');
  // The next pass changes nothing: a new supervisor is not a new image identity.
  await cli!.ok(['up', '-d', '--wait', '--timeout', '60'], 120_000);
  assert.equal(await gatewayId(), gateway);
});
