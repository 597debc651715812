// East-west mesh (preview) end to end: the real CLI and daemon, the real engine, a per-project gateway container
// built locally. A caller container on the project network reaches services by name through the gateway: 3 echo
// replicas by http://web:3000 (fresh connection and lookup per call), a second HTTP service on the same port by its own
// name, and a TCP server that speaks first by db:5432. The gateway is adopted after a daemon SIGKILL (and keeps
// serving while no daemon runs), and `down` removes it. Traffic only to containers on the network this test created.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonInfo, ServiceTableRow } from '../../daemon/api/control.ts';
import { type CmeshCli, newCmeshCli, projectContainers, until } from '../helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, requireDocker, run, dockerTestFile } from '../helpers/docker.ts';
import {
  type Call,
  eastWestCaller,
  freshLoad,
  gatewayId as gatewayOf,
  httpCalls,
  keepAliveLoad,
  loadStarted,
  PER_PROJECT_GATEWAYS,
  runningIds as serviceIds,
  tcpCalls,
} from '../helpers/east-west.ts';
import { serviceLabels } from '../helpers/echo-project.ts';

await dockerTestFile();

const runId = newRunId('eastwest');
const project = runId;
const gatewayName = `${project}-cmesh-gateway`;
const network = `${project}_default`;
let cli: CmeshCli | undefined;
let writeCompose: (eastWest: boolean) => Promise<void>;

const caller = eastWestCaller(runId, network);
const gatewayId = () => gatewayOf(project);
const runningIds = (service: string) => serviceIds(cli!, service);

async function serviceRow(service: string): Promise<ServiceTableRow> {
  const rows = JSON.parse((await cli!.ok(['services', '--json'])).stdout) as ServiceTableRow[];
  const row = rows.find((r) => r.service === service);
  assert.ok(row, `${service} is in the service table`);
  return row;
}

/** East-west requests (HTTP) or connections (TCP) the gateway counted for the service over the last minute. */
async function eastWestCount(service: string): Promise<number> {
  const row = await serviceRow(service);
  return row.replicas.reduce((n, r) => n + (r.eastWest?.requests ?? 0), 0);
}

/** The gateway reports once a second: wait until its count reaches `atLeast` (proof the calls went through it). */
function countedThroughGateway(service: string, atLeast: number): Promise<number> {
  return until(`${atLeast} east-west requests of ${service} in cmesh services`, 10_000, async () => {
    const n = await eastWestCount(service);
    return n >= atLeast ? n : undefined;
  }, 250);
}

/** Sum of cmesh_requests_total{path="east-west"} for the service on the daemon's /metrics, per replica label. */
async function eastWestMetrics(service: string): Promise<Record<string, number>> {
  const info = JSON.parse((await cli!.ok(['daemon', 'status', '--json'])).stdout) as DaemonInfo;
  assert.ok(info.metrics && 'url' in info.metrics, JSON.stringify(info.metrics));
  const text = await (await fetch(info.metrics.url)).text();
  const out: Record<string, number> = {};
  const re = new RegExp(`^cmesh_requests_total\\{project="${project}",service="${service}",replica="(\\w+)",method="GET",code_class="2xx",path="east-west"\\} (\\d+)$`, 'gm');
  for (const m of text.matchAll(re)) out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  return out;
}

/** Waits until every call of a fresh caller run succeeds and the servers cover `want` (health may still be rising). */
async function allServe(script: string, want: string[], timeoutMs = 30_000): Promise<Call[]> {
  let last: Call[] = [];
  try {
    return await until(`calls served by ${want.join(', ')}`, timeoutMs, async () => {
      last = (await caller(script)) as Call[];
      const by = new Set(last.map((c) => c.by));
      return last.every((c) => c.error === undefined) && want.every((id) => by.has(id)) ? last : undefined;
    }, 500);
  } catch (err) {
    // Say what the callers last saw (errors by kind, who answered): a timeout alone does not tell DNS from the mesh.
    const seen: Record<string, number> = {};
    for (const c of last) seen[c.error ?? `by ${c.by}`] = (seen[c.error ?? `by ${c.by}`] ?? 0) + 1;
    throw new Error(`${(err as Error).message}; last run: ${JSON.stringify(seen)}`);
  }
}

before(async () => {
  await requireDocker();
  const [echo, greeter] = await Promise.all([buildFixtureImage('echo'), buildFixtureImage('greeter')]);
  cli = await newCmeshCli(PER_PROJECT_GATEWAYS);
  const probe = 'health: { path: /healthz, interval: 250ms, timeout: 500ms, rise: 1, fall: 2 }';
  // Written twice: without east-west first (the project as it runs today), then with it (the switch under load).
  const compose = (eastWest: boolean): string => `name: ${project}
x-cmesh:
  east_west: ${eastWest}
services:
  web:
    image: ${echo}
    deploy: { replicas: 3 }
    environment: { SERVICE_NAME: web }
    expose: ["3000"]
    x-cmesh: { ${probe} }
${serviceLabels(runId)}  api:
    image: ${echo}
    deploy: { replicas: 2 }
    environment: { SERVICE_NAME: api }
    expose: ["3000"]
    x-cmesh: { protocol: http, ${probe} }
${serviceLabels(runId)}  db:
    image: ${greeter}
    deploy: { replicas: 2 }
    x-cmesh: { protocol: tcp, ports: [5432], health: { interval: 250ms, timeout: 500ms, rise: 1, fall: 2 } }
${serviceLabels(runId)}`;
  writeCompose = (eastWest) => writeFile(join(cli!.work, 'compose.yaml'), compose(eastWest));
  await writeCompose(false);
});

after(async () => {
  await cli?.teardown(project, runId);
});

test('east-west switched on over a running project under fresh-connection load by name: nothing from the gateway fails', async () => {
  await cli!.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
  assert.equal(await gatewayId(), undefined, 'no gateway while east-west is off');
  await allServe(httpCalls('web', 3000, 30), await runningIds('web'));
  const started = Date.now();
  const load = caller(freshLoad('web', 3000, 35_000), 90_000, `${runId}-switch-load`) as Promise<{ ok: number; fails: Record<string, number> }>;
  await loadStarted(`${runId}-switch-load`);
  await new Promise((r) => setTimeout(r, 1500));
  await writeCompose(true);
  // The gateway first (its image is built on the first east-west up of a cmesh version), then start-first rollouts.
  await cli!.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
  const upMs = Date.now() - started;
  const result = await load;
  process.stdout.write(`# east-west switched on under load: ${result.ok} ok, failed ${JSON.stringify(result.fails)}, up done ${upMs} ms after the load began\n`);
  assert.ok(upMs < 35_000, `the switch finished inside the load window (${upMs} ms)`);
  assert.ok(result.ok > 500, `the load ran (${result.ok} requests)`);
  // No answer from a gateway that is still rising (it starts from the daemon's health): no 5xx, no refused connection.
  assert.deepEqual(Object.keys(result.fails).filter((k) => k.startsWith('http ') || k === 'ECONNREFUSED'), [], JSON.stringify(result.fails));
  // What remains is a caller that resolved an old replica (it still carries the alias) just as it stopped: a reset.
  // Removing the old replica from DNS before stopping it needs a network disconnect in the engine port (later).
  const failed = Object.values(result.fails).reduce((a, b) => a + b, 0);
  assert.ok(failed <= Math.ceil(result.ok / 5000), `at most 1 in 5000 calls reset (${failed} of ${result.ok})`);
  // And the switch happened: a gateway runs and served part of that load.
  assert.ok(await gatewayId(), 'the gateway exists');
  await until('east-west requests counted', 10_000, async () => {
    const n = Object.values(await eastWestMetrics('web')).reduce((a, b) => a + b, 0);
    return n > 0 ? n : undefined;
  }, 250);
});

test('up: one gateway per project carries the meshed names; replicas keep only their container names', async () => {
  const id = await gatewayId();
  assert.ok(id, 'the gateway container exists');
  const info = JSON.parse(await run(['inspect', '--format', '{{json .}}', id])) as {
    State: { Running: boolean };
    Config: { Labels: Record<string, string>; Image: string };
    NetworkSettings: { Networks: Record<string, { Aliases: string[] | null }> };
  };
  assert.equal(info.State.Running, true);
  assert.equal(info.Config.Labels['dev.cmesh.role'], 'gateway');
  assert.equal(info.Config.Labels['dev.cmesh.managed'], 'true');
  assert.match(info.Config.Image, /^cmesh\/gateway:[0-9a-f]{16}$/);
  const aliases = info.NetworkSettings.Networks[network]?.Aliases ?? [];
  for (const name of ['web', 'api', 'db']) assert.ok(aliases.includes(name), `gateway answers for ${name} (${aliases.join(',')})`);
  for (const r of (await cli!.ps()).filter((x) => x.service === 'web')) {
    const own = JSON.parse(await run(['inspect', '--format', `{{json (index .NetworkSettings.Networks "${network}").Aliases}}`, r.container])) as string[] | null;
    assert.ok(!(own ?? []).includes('web'), `${r.name} does not carry the alias web`);
  }
});

test('point 1: a plain HTTP client reaches all 3 replicas by http://web:3000; api on the same port answers for itself', async () => {
  const web = await runningIds('web');
  const api = await runningIds('api');
  assert.equal(web.length, 3);
  const calls = await allServe(httpCalls('web', 3000, 60), web);
  assert.ok(calls.every((c) => c.service === 'web'));
  // Through the gateway, not Docker DNS: its own counters saw them (and the rows list the east-west ports).
  await countedThroughGateway('web', 60);
  assert.deepEqual((await serviceRow('web')).eastWest?.ports, [{ port: 3000, protocol: 'http' }]);
  // Point 7: /metrics counts them per replica with path="east-west".
  const perReplica = await until('east-west request metrics', 10_000, async () => {
    const m = await eastWestMetrics('web');
    return Object.values(m).reduce((a, b) => a + b, 0) >= 60 ? m : undefined;
  }, 250);
  assert.deepEqual(Object.keys(perReplica).sort(), ['1', '2', '3']);
  const counts = web.map((id) => calls.filter((c) => c.by === id).length);
  // p2c over 3 equal replicas: each gets a fair share of 60 fresh-connection calls.
  assert.ok(counts.every((n) => n >= 8), `spread over replicas: ${counts.join('/')}`);
  const apiCalls = await allServe(httpCalls('api', 3000, 30), api);
  assert.ok(apiCalls.every((c) => c.service === 'api' && api.includes(c.by!)), 'every api call is served by an api replica');
  await countedThroughGateway('api', 30);
});

test('point 8: a TCP server that speaks first is reachable by name, balanced per connection', async () => {
  const db = await runningIds('db');
  assert.equal(db.length, 2);
  const calls = await allServe(tcpCalls('db', 5432, 20), db);
  assert.ok(calls.every((c) => c.echo === 'ECHO PING'), JSON.stringify(calls.slice(0, 3)));
  assert.deepEqual((await serviceRow('db')).eastWest?.ports, [{ port: 5432, protocol: 'tcp' }]);
  await countedThroughGateway('db', 20);
});

test('point 2: kill -9 of a replica under keep-alive east-west load fails no request', async () => {
  const [victim] = (await cli!.ps()).filter((r) => r.service === 'web' && r.state === 'running');
  assert.ok(victim);
  const sum = (m: Record<string, number>): number => Object.values(m).reduce((a, b) => a + b, 0);
  const before = sum(await eastWestMetrics('web'));
  const load = caller(keepAliveLoad('web', 3000, 12_000), 60_000, `${runId}-kill-load`) as Promise<{ ok: number; fails: Record<string, number> }>;
  // The kill lands 3 s into the load, counted from the load's own start (not the caller container's).
  await loadStarted(`${runId}-kill-load`);
  await new Promise((r) => setTimeout(r, 3000));
  await run(['kill', '--signal', 'KILL', victim.container]);
  const result = await load;
  process.stdout.write(`# east-west kill -9 under keep-alive load: ${result.ok} ok, failed ${JSON.stringify(result.fails)}\n`);
  assert.deepEqual(result.fails, {});
  assert.ok(result.ok > 1000, `the load ran (${result.ok} requests)`);
  // Through the gateway (Docker DNS alone fails some of these, issue #13): its counters saw every one.
  await until('the gateway to report the load', 10_000, async () => (sum(await eastWestMetrics('web')) - before >= result.ok ? true : undefined), 250);
  // The supervisor brings it back; wait so the next tests see 3 replicas again.
  await until('3 running web replicas', 30_000, async () => ((await runningIds('web')).length === 3 ? true : undefined), 250);
});

test('point 3: a paused replica is out of the east-west pool within 3 s: 0 of 60 calls fail or take over 0.5 s', async () => {
  const [victim] = (await cli!.ps()).filter((r) => r.service === 'web' && r.state === 'running');
  assert.ok(victim);
  await run(['pause', victim.container]);
  try {
    // The caller container's own start (~1 s) is part of the 3 s.
    await new Promise((r) => setTimeout(r, 2000));
    const calls = (await caller(httpCalls('web', 3000, 60))) as Call[];
    const bad = calls.filter((c) => c.error !== undefined || (c.ms ?? 0) > 500);
    assert.deepEqual(bad, [], `slow or failed calls with ${victim.name} paused`);
    assert.ok(calls.every((c) => c.by !== victim.container.slice(0, 12)), 'the paused replica served nothing');
  } finally {
    await run(['unpause', victim.container]);
  }
  await allServe(httpCalls('web', 3000, 30), await runningIds('web'));
});

test('point 4: scale 3 → 1 → 3 and a rolling restart under keep-alive east-west load: 0 failed', async () => {
  const started = Date.now();
  const load = caller(keepAliveLoad('web', 3000, 30_000), 90_000, `${runId}-scale-load`) as Promise<{ ok: number; fails: Record<string, number> }>;
  await loadStarted(`${runId}-scale-load`);
  await new Promise((r) => setTimeout(r, 1500));
  await cli!.ok(['scale', 'web=1', '--wait'], 60_000);
  await cli!.ok(['scale', 'web=3', '--wait'], 60_000);
  await cli!.ok(['restart', 'web'], 90_000);
  const opsMs = Date.now() - started;
  const result = await load;
  process.stdout.write(`# east-west scale 3→1→3 + restart under keep-alive load: ${result.ok} ok, failed ${JSON.stringify(result.fails)}, changes done ${opsMs} ms after the load began\n`);
  // The load runs 30 s from its container's start (~1 s): every change must have happened under it.
  assert.ok(opsMs < 30_000, `scale and restart finished inside the load window (${opsMs} ms)`);
  assert.deepEqual(result.fails, {});
  assert.ok(result.ok > 1000, `the load ran (${result.ok} requests)`);
  assert.equal((await runningIds('web')).length, 3);
});

test('daemon SIGKILL: east-west calls keep flowing without it (fail-open); the next daemon adopts the gateway', async () => {
  const before = await gatewayId();
  const web = await runningIds('web');
  await cli!.killDaemon();
  const t0 = performance.now();
  const calls = (await caller(httpCalls('web', 3000, 30))) as Call[];
  const ms = performance.now() - t0;
  assert.deepEqual(calls.filter((c) => c.error !== undefined), [], 'no call fails while the daemon is dead');
  assert.ok(calls.every((c) => web.includes(c.by!)));
  process.stdout.write(`# east-west without a daemon: 30/30 calls served in ${Math.round(ms)} ms (caller start included)\n`);
  // The next verb starts a daemon; its passes must adopt the gateway, not create a second one.
  await cli!.ok(['up', '-d', '--wait', '--timeout', '60'], 120_000);
  assert.equal(await gatewayId(), before, 'the same gateway container, adopted');
  const gateways = await projectContainers(project, ['--filter', 'label=dev.cmesh.role=gateway']);
  assert.equal(gateways.length, 1);
  await allServe(httpCalls('web', 3000, 30), web);
});

test('down removes the gateway with the project; the image stays cached for the next up', async () => {
  const image = JSON.parse(await run(['inspect', '--format', '{{json .Config.Image}}', gatewayName])) as string;
  await cli!.ok(['down'], 120_000);
  assert.equal(await gatewayId(), undefined, 'gateway removed');
  assert.deepEqual(await projectContainers(project), []);
  assert.equal(await run(['network', 'ls', '-q', '--filter', `name=^${network}$`]), '');
  assert.ok(await run(['image', 'inspect', '--format', '{{.Id}}', image]), 'the gateway image is kept as a cache');
});
