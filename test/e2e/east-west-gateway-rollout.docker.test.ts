// A gateway that must change, replaced start-first under load (issue #13): web's names change (a compose alias added
// on the network the gateway stays on) and then a service leaves it (`x-cmesh.mesh: false`), each with `up -d --wait`
// while four keep-alive and two fresh-connection callers call `web` by name. Each time the new gateway starts beside
// the old one (Docker DNS answers with both), serves, the old one drains (`Connection: close`) and goes, and the new
// one takes the canonical name. Traffic only to containers on the network this test's project created.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadavg } from 'node:os';
import { sleep } from '../helpers/cmesh-cli.ts';
import { dockerTestFile, run } from '../helpers/docker.ts';
import { aliasesOf, failedCount, gatewayIds, type LoadResult, loadStarted, mixedLoad } from '../helpers/east-west.ts';
import { answeredBy, rolloutLines, rolloutProject, testDownRemovesAll, settledGateway as settled, type Shape, writeShape } from '../helpers/east-west-rollout.ts';

await dockerTestFile();

const { runId, project, network, gateway, caller, suite } = rolloutProject('ewroll');
const LOAD_MS = 45_000;

/**
 * mixedLoad that also notes when each failure happened (ms into the load), to set beside the gateways' logs, and for a
 * timeout where the call was: connected or not, to which address, which addresses it tried.
 */
const timedLoad = (ms: number): string =>
  mixedLoad('web', 3000, ms, { keepAlive: 4, fresh: 2 })
    .replace(
      'm.fails[err] = (m.fails[err] || 0) + 1;',
      'm.fails[err] = (m.fails[err] || 0) + 1; (m.failedAt = m.failedAt || []).push(err + "@" + new Date().toISOString());',
    )
    .replace(
      "req.on('timeout', () => req.destroy(new Error('timeout')));",
      "req.on('timeout', () => { const s = req.socket; req.destroy(new Error('timeout ' + (s ? JSON.stringify({ fresh: a === false, connected: !s.connecting, remote: s.remoteAddress, tried: s.autoSelectFamilyAttemptedAddresses }) : 'before a socket'))); });",
    );

/** Every gateway container's log, kept as last seen: the replaced ones are gone by the time a failure is read. */
function followGatewayLogs(): { stop: () => void; logs: Map<string, string> } {
  const logs = new Map<string, string>();
  let on = true;
  void (async () => {
    while (on) {
      for (const [name, id] of Object.entries(await gatewayIds(project).catch(() => ({})))) {
        const out = await run(['logs', '--timestamps', id]).catch(() => undefined);
        if (out !== undefined) logs.set(`${name} ${id.slice(0, 12)}`, out);
      }
      await sleep(300);
    }
  })();
  return { stop: () => (on = false), logs };
}

/** `up -d --wait` of the shape; how long it took and the gateway's rollout lines it printed. */
async function up(s: Shape): Promise<{ ms: number; rollout: string[] }> {
  await writeShape(suite.cli!, project, runId, suite.echo, s);
  const t0 = Date.now();
  const r = await suite.cli!.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
  return { ms: Date.now() - t0, rollout: rolloutLines(r.stderr) };
}

/** The gateway was replaced start-first: the new one served, then the old one drained (the executor's own events). */
function startFirst(rollout: string[]): void {
  const phases = rollout.map((l) => /Rollout cmesh:gateway {2}(\w+)/.exec(l)?.[1]);
  assert.deepEqual(phases, ['start', 'progress', 'done'], rollout.join('\n'));
  assert.match(rollout[1]!, /-cmesh-gateway-next serves, draining/);
}

const answers = (host: string, service: string): Promise<void> => answeredBy(caller, host, service);
const settledGateway = (): Promise<string> => settled(project);

test('a gateway replaced start-first twice under load by name (names changed, a service left): 0 failed calls', async () => {
  await up({ webAliases: [], apiOut: false });
  const first = await settledGateway();
  await answers('web', 'web');
  await answers('api', 'api');

  const name = `${runId}-rollout-load`;
  const follow = followGatewayLogs();
  const load = caller(timedLoad(LOAD_MS), 120_000, name) as Promise<LoadResult>;
  load.catch(() => undefined);
  await loadStarted(name);
  await sleep(2000);
  // 1: web gets a compose alias on the network the gateway is on: the engine cannot change a live endpoint's aliases.
  const alias = await up({ webAliases: ['www'], apiOut: false });
  startFirst(alias.rollout);
  assert.match(alias.rollout[0]!, /names of web changed/);
  const second = await settledGateway();
  assert.notEqual(second, first, 'a new gateway container');
  assert.ok((await aliasesOf(gateway, network)).includes('www'), 'the new gateway carries the new alias');
  await sleep(2000);
  // 2: api leaves the mesh: its name must stop answering at the gateway (its replicas take it back).
  const leave = await up({ webAliases: ['www'], apiOut: true });
  startFirst(leave.rollout);
  assert.match(leave.rollout[0]!, /api no longer on it/);
  const third = await settledGateway();
  assert.notEqual(third, second, 'replaced again');
  assert.ok(!(await aliasesOf(gateway, network)).includes('api'), 'api is no longer a name of the gateway');
  const doneAt = Date.now();
  const result = await load;
  follow.stop();

  const line = (label: string, m: LoadResult['keepAlive']) => `${label}: ${m.ok} ok, ${failedCount(m)} failed ${JSON.stringify(m.fails)}, longest gap ${m.longestGapMs} ms`;
  const load1 = loadavg().map((l) => l.toFixed(1)).join(' ');
  process.stdout.write(
    `# east-west gateway replaced start-first twice under load (${LOAD_MS} ms, load ${load1}): alias change took ${alias.ms} ms, ` +
      `leave ${leave.ms} ms, done ${doneAt - result.startedAt} ms into the load\n#   ${line('keep-alive x4', result.keepAlive)}\n#   ${line('fresh x2', result.fresh)}\n`,
  );
  assert.ok(doneAt < result.endedAt - 1000, `both replacements happened inside the load window (${result.endedAt - doneAt} ms to spare)`);
  const failedAt = [result.keepAlive, result.fresh].flatMap((m) => (m as { failedAt?: string[] }).failedAt ?? []);
  if (failedAt.length > 0) {
    const logs = [...follow.logs].map(([who, text]) => `--- ${who}\n${text.split('\n').filter((l) => !/first table|connected/.test(l)).slice(-25).join('\n')}`);
    process.stdout.write(`# failures at ${failedAt.join(' ')}\n${logs.join('\n').replace(/^/gm, '#   ')}\n`);
  }
  assert.deepEqual(result.keepAlive.fails, {}, 'keep-alive callers: no failed call');
  // Fresh-connection callers: the known residual (README "How a gateway is replaced"): a connection the kernel queued on
  // the retiring gateway's listening socket in the instant it closes is reset — 0–2 per replacement measured (gwroll,
  // gwbind; fewer since the supervisor's copy of the socket closes first, gwretire). Anything else (refused, 503, a
  // timeout) or more resets is a regression.
  const resets = result.fresh.fails['ECONNRESET'] ?? 0;
  assert.deepEqual(Object.keys(result.fresh.fails).filter((k) => k !== 'ECONNRESET'), [], `fresh callers: only resets at a retire ${JSON.stringify(result.fresh.fails)}`);
  assert.ok(resets <= 2 * 2, `fresh callers: at most 2 resets per replacement (${resets} in 2)`);
  for (const m of [result.keepAlive, result.fresh]) assert.ok(m.ok > 100, `callers ran (${m.ok} calls)`);
  await answers('web', 'web');
  await answers('www', 'web');
  await answers('api', 'api');
});

testDownRemovesAll(project, suite);
