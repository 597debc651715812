// A replica whose network link goes away by hand (`docker network disconnect`) while its container keeps running:
// the daemon takes it out of rotation on the engine's disconnect event, so no request waits on an address that
// answers nothing (reached at its own address, a connect waits for ARP to fail) and none fails; after
// `docker network connect` it rises again and serves. A real daemon and engine, 3 echo replicas, a bounded closed loop.

import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, test } from 'node:test';
import type { ServiceTableRow } from '../../daemon/api/control.ts';
import { Labels } from '../../daemon/api/labels.ts';
import { type CmeshCli, until } from '../helpers/cmesh-cli.ts';
import { dockerTestFile, newRunId, run } from '../helpers/docker.ts';
import { type EchoProject, echoProject } from '../helpers/echo-project.ts';
import { assertReached, expectedReach } from '../helpers/replica-reach.ts';

await dockerTestFile();

const runId = newRunId('linkgone');
const CLIENTS = 4;
const RUN_MS = 4_000;
const ACT_AT_MS = 1_000;
const MAX_REQUESTS = 20_000;
/** A request this slow waited on the gone address (the bug: 5–10 s, or a failure). */
const STALL_MS = 900;
let p: EchoProject | undefined;
let cli: CmeshCli;

before(async () => {
  p = await echoProject({ runId, replicas: 3 });
  cli = p.cli;
});

after(async () => {
  await p?.teardown();
});

/** One request on a new connection: [ms, status (0: no answer), x-served-by]. */
function get(port: number, agent: Agent): Promise<[number, number, string]> {
  const t = performance.now();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent, timeout: 15_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve([performance.now() - t, res.statusCode ?? 0, String(res.headers['x-served-by'] ?? '')]));
    });
    req.on('error', () => resolve([performance.now() - t, 0, '']));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function web(): Promise<ServiceTableRow | undefined> {
  const rows = JSON.parse((await cli.ok(['services', '--json'])).stdout) as ServiceTableRow[];
  return rows.find((s) => s.service === 'web');
}

test('a replica disconnected from its network by hand leaves rotation at once (no stall, no failure) and serves again after the connect', { timeout: 180_000 }, async () => {
  await cli.ok(['up', '-d', '--wait', '--timeout', '60']);
  const mode = await expectedReach();
  const ps = (await cli.ps()).filter((r) => r.service === 'web' && r.state === 'running');
  assert.equal(ps.length, 3);
  for (const r of ps) assertReached(mode, r.endpoints, `web-${r.replica}`);
  await until('3 routable replicas', 20_000, async () => ((await web())?.replicas.filter((r) => r.routable).length === 3 ? true : undefined), 200);
  const victim = ps.find((r) => r.replica === 1)!;
  const labels = JSON.parse(await run(['inspect', '--format', '{{json .Config.Labels}}', victim.container])) as Record<string, string>;
  const networks = Object.keys(JSON.parse(await run(['inspect', '--format', '{{json .NetworkSettings.Networks}}', victim.container])) as object);
  const network = labels[Labels.reachNetwork] ?? networks[0]!;

  // Closed loop, a new connection a request (each picks a replica). The clients hold off while the disconnect runs,
  // as a quiet service's next requests would come after it: a request already on the wire to the replica when its link
  // goes gets no answer whatever the daemon does (see the README).
  const agent = new Agent({ keepAlive: false });
  const outcomes: [number, number][] = [];
  const t0 = performance.now();
  let hold: Promise<unknown> | undefined;
  let disconnected = false;
  const client = async (): Promise<void> => {
    while (performance.now() - t0 < RUN_MS && outcomes.length < MAX_REQUESTS) {
      if (!disconnected && performance.now() - t0 >= ACT_AT_MS) {
        disconnected = true;
        hold = run(['network', 'disconnect', network, victim.container]);
      }
      if (hold) await hold;
      const [ms, status] = await get(p!.port, agent);
      outcomes.push([ms, status]);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  agent.destroy();
  const failures = outcomes.filter(([, s]) => s !== 200);
  const worst = Math.max(...outcomes.map(([ms]) => ms));
  const line = `${outcomes.length} requests, ${failures.length} failed, slowest ${Math.round(worst)} ms (${mode})`;
  console.log(`# link gone: ${line}`);
  assert.ok(disconnected, 'the replica was disconnected under load');
  assert.ok(outcomes.length >= 100, line);
  assert.deepEqual(failures.slice(0, 5), [], line);
  assert.ok(worst < STALL_MS, `no request waited on the gone address: ${line}`);
  const gone = (await web())?.replicas.find((r) => r.container === victim.container);
  assert.equal(gone?.routable, false, 'out of rotation');

  await run(['network', 'connect', network, victim.container]);
  await until('the replica to be routable again', 20_000, async () => {
    const r = (await web())?.replicas.find((x) => x.container === victim.container);
    return r?.routable ? true : undefined;
  }, 100);
  const host = (await run(['inspect', '--format', '{{.Config.Hostname}}', victim.container])).trim();
  const back = new Agent({ keepAlive: false });
  let served = 0;
  for (let i = 0; i < 200 && served === 0; i++) {
    const [, status, by] = await get(p!.port, back);
    assert.equal(status, 200);
    if (by === host) served++;
  }
  back.destroy();
  assert.ok(served > 0, `web-1 (${host}) serves again after the connect`);
});
