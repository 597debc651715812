// A network added to and dropped from a running project under east-west load (issue #13: fewer gateway recreates):
// the running gateway joins the new network with web's name there and leaves it again, live; it is never recreated,
// so its address on the old network never moves and the callers there see no failed call. A caller on the new network
// reaches web by name through the gateway. Traffic only to containers on networks this test's project created.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { sleep, until } from '../helpers/cmesh-cli.ts';
import { newRunId, run, dockerTestFile } from '../helpers/docker.ts';
import { addressOn, aliasesOf, type Call, eastWestCaller, echoSuite, failedCount, gatewayIds, httpCalls, type LoadResult, loadStarted, mixedLoad, PER_PROJECT_GATEWAYS, runningIds } from '../helpers/east-west.ts';
import { serviceLabels } from '../helpers/echo-project.ts';

await dockerTestFile();

const runId = newRunId('ewnets');
const project = runId;
const front = `${project}_default`;
const back = `${project}_back`;
const gateway = `${project}-cmesh-gateway`;
const LOAD_MS = 40_000;
const suite = echoSuite(project, runId, PER_PROJECT_GATEWAYS);

/** web (3 echo replicas on 3000, HTTP by its probe) on the default network, and on `back` too when `withBack`. */
function compose(withBack: boolean): string {
  const probe = 'x-cmesh: { health: { path: /healthz, interval: 250ms, timeout: 500ms, rise: 1, fall: 2 } }';
  const nets = withBack ? '    networks: [default, back]\n' : '';
  const web = `  web:\n    image: ${suite.echo}\n    deploy: { replicas: 3 }\n    environment: { SERVICE_NAME: web }\n    expose: ["3000"]\n    ${probe}\n${nets}${serviceLabels(runId)}`;
  return `name: ${project}\nservices:\n${web}${withBack ? 'networks:\n  back: {}\n' : ''}`;
}

async function up(withBack: boolean): Promise<number> {
  await writeFile(join(suite.cli!.work, 'compose.yaml'), compose(withBack));
  const t0 = Date.now();
  await suite.cli!.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
  return Date.now() - t0;
}

/** Fresh calls to web from a caller on `network`: all answered by web, by each running replica, by the gateway's address. */
async function servedThroughGateway(network: string): Promise<void> {
  const via = await addressOn(gateway, network);
  const lookup = `require('node:dns').lookup('web', (e, a) => console.log(JSON.stringify(e ? e.code : a)))`;
  assert.equal(await eastWestCaller(runId, network)(lookup), via, `web resolves to the gateway on ${network}`);
  let seen = '';
  await until(`web answering by name on ${network}`, 30_000, async () => {
    const want = await runningIds(suite.cli!, 'web');
    const calls = (await eastWestCaller(runId, network)(httpCalls('web', 3000, 20))) as Call[];
    const by = new Set(calls.map((c) => c.by));
    seen = JSON.stringify(calls.map((c) => c.error ?? `${c.service}@${c.by}`));
    return calls.every((c) => c.service === 'web') && want.every((id) => by.has(id)) ? true : undefined;
  }, 500).catch((err: Error) => assert.fail(`${err.message}; last run: ${seen}`));
}

test('a network added and dropped under load: the gateway joins and leaves it live, 0 failed, its address stays', async () => {
  await up(false);
  const [id] = Object.values(await gatewayIds(project));
  const address = await addressOn(gateway, front);
  await servedThroughGateway(front);

  const load = eastWestCaller(runId, front)(mixedLoad('web', 3000, LOAD_MS, { keepAlive: 4, fresh: 2 }), 120_000, `${runId}-load`) as Promise<LoadResult>;
  load.catch(() => undefined);
  await loadStarted(`${runId}-load`);
  await sleep(2000);
  const addMs = await up(true);
  assert.deepEqual(Object.values(await gatewayIds(project)), [id], 'the same gateway container');
  assert.ok((await aliasesOf(gateway, back)).includes('web'), 'the gateway carries web on back');
  await servedThroughGateway(back);
  const removeMs = await up(false);
  const removedAt = Date.now();
  // The disconnect comes once web's replicas left back (the gateway may reach them there): done when up returns.
  const attached = JSON.parse(await run(['inspect', '--format', '{{json .NetworkSettings.Networks}}', gateway])) as object;
  assert.deepEqual(Object.keys(attached), [front], 'the gateway left back');
  const result = await load;

  const line = (name: string, m: LoadResult['keepAlive']) => `${name}: ${m.ok} ok, ${failedCount(m)} failed ${JSON.stringify(m.fails)}, longest gap ${m.longestGapMs} ms`;
  process.stdout.write(
    `# east-west network added and dropped under load (${LOAD_MS} ms): add took ${addMs} ms, remove ${removeMs} ms, ` +
      `done ${removedAt - result.startedAt} ms into the load\n#   ${line('keep-alive x4', result.keepAlive)}\n#   ${line('fresh x2', result.fresh)}\n`,
  );
  assert.ok(removedAt < result.endedAt - 1000, `both changes happened inside the load window (${result.endedAt - removedAt} ms to spare)`);
  for (const [name, m] of [['keep-alive', result.keepAlive], ['fresh', result.fresh]] as const) {
    assert.deepEqual(m.fails, {}, `${name} callers: no failed call`);
    assert.ok(m.ok > 100, `${name} callers ran (${m.ok} calls)`);
  }
  assert.deepEqual(Object.values(await gatewayIds(project)), [id], 'never recreated');
  assert.equal(await addressOn(gateway, front), address, 'web still resolves to the same address on the old network');
  await servedThroughGateway(front);
});
