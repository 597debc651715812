// The daemon SIGKILLed in the middle of a start-first gateway replacement (issue #13): web gets a compose alias, and
// once the replacement's `-next` container exists (created, not yet retired the old one) the daemon is killed. A new
// daemon's next pass finishes or undoes it as the planner says (README "How a gateway is replaced": a pending `-next`
// is adopted, made again, promoted or removed); callers by name — keep-alive and fresh-connection — keep working
// throughout (the gateways serve their last table while no daemon runs), and at the end exactly one gateway container
// is left, under the canonical name, with the new alias, and nothing orphaned. Traffic only to containers on the
// network this test's project created.

import assert from 'node:assert/strict';
import { loadavg } from 'node:os';
import { test } from 'node:test';
import { alive, projectContainers, sleep, until } from '../helpers/cmesh-cli.ts';
import { dockerTestFile, run } from '../helpers/docker.ts';
import { aliasesOf, failedCount, gatewayIds, type LoadResult, loadStarted, mixedLoad } from '../helpers/east-west.ts';
import { answeredBy, rolloutLines, rolloutProject, testDownRemovesAll, settledGateway, type Shape, writeShape } from '../helpers/east-west-rollout.ts';

await dockerTestFile();

const { runId, project, network, gateway, caller, suite } = rolloutProject('ewcrash');
const LOAD_MS = 50_000;

const shape = (webAliases: string[]): Shape => ({ webAliases, apiOut: false });

const answers = (host: string, service: string): Promise<void> => answeredBy(caller, host, service);

test('the daemon killed while a gateway replacement is half-way: the next daemon settles it, callers keep working', async () => {
  const cli = suite.cli!;
  await writeShape(cli, project, runId, suite.echo, shape([]));
  await cli.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
  const first = await settledGateway(project);
  await answers('web', 'web');
  await answers('api', 'api');

  const name = `${runId}-crash-load`;
  const load = caller(mixedLoad('web', 3000, LOAD_MS, { keepAlive: 2, fresh: 2 }), 120_000, name) as Promise<LoadResult>;
  load.catch(() => undefined);
  await loadStarted(name);
  await sleep(2000);

  // The alias change replaces the gateway start-first; the daemon dies as soon as the `-next` container exists.
  await writeShape(cli, project, runId, suite.echo, shape(['www']));
  const interrupted = cli.cmesh(['up', '-d', '--wait', '--timeout', '120'], 180_000);
  const nextId = await until('the -next gateway to be created', 60_000, async () => (await gatewayIds(project))[`${gateway}-next`], 20);
  await cli.killDaemon();
  const killedAt = Date.now();
  const nextState = await run(['inspect', '--format', '{{.State.Status}}', nextId]).catch(() => 'gone');
  const before = await gatewayIds(project);
  const cut = await interrupted;
  assert.notEqual(cut.code, 0, 'the interrupted up failed (its daemon died)');
  // …and did not start another one for its verdict: the phase below really runs without a daemon.
  assert.doesNotMatch(cut.stderr, /started the daemon/, 'the interrupted up started no daemon');
  assert.equal(before[gateway], first, 'the old gateway is still there after the kill');
  // No daemon for a while: both gateways serve on with their last table (or, a -next never given one, refuse: callers
  // go on to the other address).
  await sleep(3000);
  const during = await cli.daemonPid();
  assert.ok(during === undefined || !alive(during), `no daemon ran in the meantime (pid ${during} alive)`);

  // A new daemon (the CLI starts one) and the same wanted state: its pass settles the half-done replacement.
  const again = await cli.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
  const settled = await settledGateway(project);
  const doneAt = Date.now();
  assert.ok((await aliasesOf(gateway, network)).includes('www'), 'the gateway carries the new alias');
  const result = await load;

  const line = (label: string, m: LoadResult['keepAlive']) => `${label}: ${m.ok} ok, ${failedCount(m)} failed ${JSON.stringify(m.fails)}, longest gap ${m.longestGapMs} ms`;
  const outcome = settled === nextId ? 'the -next one, adopted and renamed' : settled === first ? 'the old one (the change undone?)' : 'a new one';
  process.stdout.write(
    `# daemon SIGKILLed ${killedAt - result.startedAt} ms into the load with -next ${nextState}; settled ${doneAt - killedAt} ms later on ${outcome} ` +
      `(load ${loadavg().map((l) => l.toFixed(1)).join(' ')})\n#   rollout: ${rolloutLines(again.stderr).join(' | ') || 'none'}\n` +
      `#   ${line('keep-alive x2', result.keepAlive)}\n#   ${line('fresh x2', result.fresh)}\n`,
  );
  assert.ok(doneAt < result.endedAt - 1000, `the crash and its repair happened inside the load window (${result.endedAt - doneAt} ms to spare)`);
  assert.notEqual(settled, first, 'the old gateway (without the alias) did not stay');
  assert.deepEqual(result.keepAlive.fails, {}, 'keep-alive callers: no failed call');
  // As in east-west-gateway-rollout: only the documented residual of a retire (a connection queued on the retiring
  // gateway's listening socket as it closes), at most 2 for the one replacement.
  const resets = result.fresh.fails['ECONNRESET'] ?? 0;
  assert.deepEqual(Object.keys(result.fresh.fails).filter((k) => k !== 'ECONNRESET'), [], `fresh callers: only resets at a retire ${JSON.stringify(result.fresh.fails)}`);
  assert.ok(resets <= 2, `fresh callers: at most 2 resets (${resets})`);
  for (const m of [result.keepAlive, result.fresh]) assert.ok(m.ok > 100, `callers ran (${m.ok} calls)`);

  // Nothing orphaned: the project's containers are its 3 replicas and the one gateway, none under a temporary name.
  const all = await projectContainers(project);
  const names = (await run(['inspect', '--format', '{{.Name}}', ...all])).split('\n').filter(Boolean);
  assert.equal(all.length, 4, `web ×2, api, the gateway: ${names.join(' ')}`);
  assert.ok(!names.some((n) => n.endsWith('-next')), `no -next left: ${names.join(' ')}`);
  await answers('web', 'web');
  await answers('www', 'web');
  await answers('api', 'api');
});

testDownRemovesAll(project, suite);
