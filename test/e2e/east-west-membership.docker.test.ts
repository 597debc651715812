// A change of the meshed set under load (issue #13 follow-up): east-west is on by default (the compose file does not
// mention it), a service is added to the running project and another removed while keep-alive and fresh-connection
// callers call `web` by name. Sticky placement: the newcomer gets a new gateway (start-first: it only adds aliases),
// web's gateway is never recreated, so its address never moves and no call fails. A gateway whose services all left
// is removed. Traffic only to containers on the network this test's project created.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { sleep, until } from '../helpers/cmesh-cli.ts';
import { newRunId, run, dockerTestFile } from '../helpers/docker.ts';
import { addressOn, type Call, eastWestCaller, echoSuite, failedCount, gatewayIds, httpCalls, type LoadResult, loadStarted, mixedLoad, PER_PROJECT_GATEWAYS, runningIds } from '../helpers/east-west.ts';
import { serviceLabels } from '../helpers/echo-project.ts';

await dockerTestFile();

const runId = newRunId('ewmember');
const project = runId;
const network = `${project}_default`;
const first = `${project}-cmesh-gateway`;
const second = `${project}-cmesh-gateway-2`;
const LOAD_MS = 30_000;
const caller = eastWestCaller(runId, network);
const suite = echoSuite(project, runId, PER_PROJECT_GATEWAYS);

/** The project with these services (each an echo service on 3000, HTTP by its probe); east-west left at its default. */
function compose(services: { name: string; replicas: number }[]): string {
  const probe = 'x-cmesh: { health: { path: /healthz, interval: 250ms, timeout: 500ms, rise: 1, fall: 2 } }';
  const body = services
    .map((s) => `  ${s.name}:\n    image: ${suite.echo}\n    deploy: { replicas: ${s.replicas} }\n    environment: { SERVICE_NAME: ${s.name} }\n    expose: ["3000"]\n    ${probe}\n${serviceLabels(runId)}`)
    .join('');
  return `name: ${project}\nservices:\n${body}`;
}

async function up(services: { name: string; replicas: number }[]): Promise<number> {
  await writeFile(join(suite.cli!.work, 'compose.yaml'), compose(services));
  const t0 = Date.now();
  await suite.cli!.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
  return Date.now() - t0;
}

/** Every one of `n` fresh calls to `host` answered by that service, and by each of its running replicas. */
async function allServe(host: string, n = 20): Promise<Call[]> {
  let seen = '';
  try {
    return await until(`${host} answering by name`, 30_000, async () => {
      const want = await runningIds(suite.cli!, host);
      const calls = (await caller(httpCalls(host, 3000, n))) as Call[];
      const by = new Set(calls.map((c) => c.by));
      seen = JSON.stringify({ want, got: calls.map((c) => c.error ?? `${c.service}@${c.by}`) });
      return calls.every((c) => c.service === host) && want.length > 0 && want.every((id) => by.has(id)) ? calls : undefined;
    }, 500);
  } catch (err) {
    // Say what the callers last saw, and what the gateway said: a timeout alone does not tell DNS from the mesh.
    const logs = await run(['logs', '--tail', '15', first]).catch((e: Error) => e.message);
    throw new Error(`${(err as Error).message}; last run: ${seen}; ${first} logs:\n${logs}`);
  }
}

test('meshed by default: a service added and one removed under load by name: 0 failed calls, no address moves', async () => {
  const web = { name: 'web', replicas: 3 };
  const api = { name: 'api', replicas: 2 };
  const extra = { name: 'extra', replicas: 1 };
  await up([web, api]);
  const before = await gatewayIds(project);
  assert.deepEqual(Object.keys(before), [first], 'one gateway for web and api (HTTP on one port, told apart by Host)');
  const address = await addressOn(first, network);
  await allServe('web');
  await allServe('api');

  const load = caller(mixedLoad('web', 3000, LOAD_MS, { keepAlive: 4, fresh: 2 }), 90_000, `${runId}-membership-load`) as Promise<LoadResult>;
  // A failed step below must not leave the load's rejection unhandled (the container is reaped by the teardown).
  load.catch(() => undefined);
  // The changes land 2 s and more into the load, counted from the load's own start (not the container's).
  await loadStarted(`${runId}-membership-load`);
  await sleep(2000);
  const addMs = await up([web, api, extra]);
  const added = await gatewayIds(project);
  // The newcomer got a gateway of its own; web's and api's is the same container.
  assert.deepEqual(Object.keys(added).sort(), [first, second]);
  assert.equal(added[first], before[first], 'the first gateway was kept as it was');
  await allServe('extra');
  // api's replicas stay as orphans (no --remove-orphans on up): without the alias they carry no name.
  const removeMs = await up([web, extra]);
  const removedAt = Date.now();
  const result = await load;

  const line = (name: string, m: LoadResult['keepAlive']) => `${name}: ${m.ok} ok, ${failedCount(m)} failed ${JSON.stringify(m.fails)}, longest gap ${m.longestGapMs} ms`;
  process.stdout.write(
    `# east-west meshed set changed under load (${LOAD_MS} ms): add took ${addMs} ms, remove ${removeMs} ms, ` +
      `done ${removedAt - result.startedAt} ms into the load\n#   ${line('keep-alive x4', result.keepAlive)}\n#   ${line('fresh x2', result.fresh)}\n`,
  );
  assert.ok(removedAt < result.endedAt - 1000, `both changes happened inside the load window (${result.endedAt - removedAt} ms to spare)`);
  for (const [name, m] of [['keep-alive', result.keepAlive], ['fresh', result.fresh]] as const) {
    assert.deepEqual(m.fails, {}, `${name} callers: no failed call`);
    // At most one call per 5 ms each; on a loaded 2-core host far fewer. The point is that they ran across both changes.
    assert.ok(m.ok > 100, `${name} callers ran (${m.ok} calls)`);
  }
  // api left: its gateway keeps serving web (api's alias on it is a name no service has any more), same address.
  assert.deepEqual(await gatewayIds(project), added);
  assert.equal(await addressOn(first, network), address, 'web still resolves to the same address');
  await allServe('web');
  await allServe('extra');
});

test('a gateway whose services all left is removed; the others stay', async () => {
  const kept = (await gatewayIds(project))[first];
  await up([{ name: 'web', replicas: 3 }]);
  // The gateway goes after the replicas; the pass that removes it may finish just after `up` returns.
  await until('the second gateway removed', 15_000, async () => ((await gatewayIds(project))[second] === undefined ? true : undefined), 250);
  assert.deepEqual(await gatewayIds(project), { [first]: kept });
  await allServe('web');
});
