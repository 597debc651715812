// What a replica that keeps running but stops answering costs the requests through the daemon's port, by how the
// daemon reaches replicas (daemon/engine/replica-reach.ts): `docker network disconnect` of its network by hand (its
// own address is then a black hole: a connect waits for ARP to fail), or `docker pause` (the kernel still accepts, the
// process answers nothing). A real daemon per mode, 3 cmesh-fixture/echo:test replicas behind one published port, 8
// closed-loop clients (a new connection per request, so every request picks a replica); at 1.5 s the clients hold off,
// the action runs on replica 1, and the load comes back (no request in flight tells the proxy first). The daemon's
// service table is read every 10 ms from the action's start until replica 1 is no longer routable ("left after";
// the docker command's own time is printed beside it). After
// the load the action is undone (connect / unpause) and the table read again until replica 1 is routable ("back after").
// Bounded: 6 s and ≤ 60 000 requests a run, 10 s for each table wait; loopback and the project's bridge only.
// Usage: npx tsx bench/link-gone.ts [--rounds N] [--only disconnect|pause] [--mode direct|published]

import { Agent, request } from 'node:http';
import type { ServiceTableRow } from '../daemon/api/service-table.ts';
import { createDaemonClient } from '../cli/daemon-client.ts';
import { type CmeshCli, newCmeshCli } from '../test/helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, requireDocker, run } from '../test/helpers/docker.ts';
import { serviceLabels } from '../test/helpers/echo-project.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { benchArgs } from './args.ts';

const opts = benchArgs('usage: npx tsx bench/link-gone.ts [--rounds N] [--only disconnect|pause] [--mode direct|published]', {
  rounds: { type: 'number' },
  only: { type: 'string', choices: ['disconnect', 'pause'] },
  mode: { type: 'string', choices: ['direct', 'published'] },
});
const RUN_MS = 6_000;
const ACT_AT_MS = 1_500;
const MAX_REQUESTS = 60_000;
const CLIENTS = 8;
const TABLE_WAIT_MS = 10_000;

type Scenario = 'disconnect' | 'pause';
type Mode = 'direct' | 'published';

interface Outcome {
  requests: number;
  failed: number;
  p50: number;
  p99: number;
  /** The slowest request, failed or not. */
  max: number;
  /** [ms from the start at which the request was sent, its latency] of requests slower than 200 ms, failed or not. */
  slow: [number, number][];
  /** [sent at ms, took ms, status (0: no answer)] of the first failed requests. */
  failures: [number, number, number][];
  /** How long the docker command of the action took (the clients held off meanwhile). */
  actMs: number;
  leftMs: number | undefined;
  backMs: number | undefined;
}

/** The request's latency, and its status (0: no answer). */
function get(port: number, agent: Agent): Promise<[number, number]> {
  const t = performance.now();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve([performance.now() - t, res.statusCode ?? 0]));
    });
    req.on('error', () => resolve([performance.now() - t, 0]));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Ms from now until the victim's `routable` reads `want` in the daemon's table (undefined: not within the bound). */
async function untilRoutable(cli: CmeshCli, project: string, container: string, want: boolean): Promise<number | undefined> {
  const client = createDaemonClient({ env: cli.env(), stderr: process.stderr });
  const t = performance.now();
  while (performance.now() - t < TABLE_WAIT_MS) {
    const rows = await client.request<ServiceTableRow[]>('GET', `/v1/services?project=${encodeURIComponent(project)}`);
    const r = rows.flatMap((row) => row.replicas).find((x) => x.container === container);
    if ((r?.routable ?? false) === want) return Math.round(performance.now() - t);
    await new Promise((res) => setTimeout(res, 10));
  }
  return undefined;
}

async function underLoad(port: number, act: () => Promise<unknown>, left: () => Promise<number | undefined>): Promise<Omit<Outcome, 'backMs'>> {
  const agent = new Agent({ keepAlive: false });
  const latencies: number[] = [];
  const slow: [number, number][] = [];
  const failures: [number, number, number][] = [];
  let failed = 0;
  let sent = 0;
  let worst = 0;
  let actMs = 0;
  let leftMs: number | undefined;
  const t0 = performance.now();
  let hold: Promise<void> | undefined;
  const client = async (): Promise<void> => {
    while (performance.now() - t0 < RUN_MS && sent < MAX_REQUESTS) {
      if (hold) await hold;
      sent++;
      const at = performance.now() - t0;
      const [ms, status] = await get(port, agent);
      if (status !== 200) {
        failed++;
        failures.push([Math.round(at), Math.round(ms), status]);
      } else latencies.push(ms);
      worst = Math.max(worst, ms);
      if (ms > 200) slow.push([Math.round(at), Math.round(ms)]);
    }
  };
  // The action returns once the engine did it; the load comes back right after, as a quiet service's next requests.
  const action = new Promise<void>((resolve, reject) =>
    setTimeout(() => {
      const watching = left().then((ms) => {
        leftMs = ms;
      });
      const t = performance.now();
      hold = act().then(() => {
        actMs = Math.round(performance.now() - t);
        hold = undefined;
      });
      Promise.all([hold, watching]).then(() => resolve(), reject);
    }, ACT_AT_MS),
  );
  await Promise.all([...Array.from({ length: CLIENTS }, client), action]);
  latencies.sort((a, b) => a - b);
  const q = (p: number): number => Number((latencies[Math.floor(p * (latencies.length - 1))] ?? 0).toFixed(1));
  return { requests: sent, failed, p50: q(0.5), p99: q(0.99), max: Math.round(worst), slow: slow.slice(0, 10), failures: failures.slice(0, 10), actMs, leftMs };
}

async function oneRun(mode: Mode, scenario: Scenario, echo: string, round: number): Promise<Outcome> {
  const runId = newRunId(`bench-lg-${mode}-${scenario}-${round}`);
  const cli: CmeshCli = await newCmeshCli({ CMESH_REPLICA_REACH: mode });
  try {
    const port = await freePort();
    await cli.writeCompose(runId, `  web:\n    image: ${echo}\n    deploy: { replicas: 3 }\n    ports: ["127.0.0.1:${port}:3000"]\n${serviceLabels(runId)}`);
    await cli.ok(['up', '-d', '--wait', '--timeout', '60'], 120_000);
    const replicas = (await cli.ps()).filter((r) => r.service === 'web' && r.state === 'running');
    const ways = replicas.map((r) => (r.endpoints.every((e) => e.direct === true) ? 'direct' : 'published'));
    if (replicas.length !== 3 || ways.some((w) => w !== mode)) throw new Error(`expected 3 ${mode} replicas, got ${JSON.stringify(ways)}`);
    const victim = replicas.find((r) => r.replica === 1)!.container;
    // The network the replica is reached on (direct), else its only one (the project's default).
    const networks = Object.keys(JSON.parse(await run(['inspect', '--format', '{{json .NetworkSettings.Networks}}', victim])) as object);
    const reach = (await run(['inspect', '--format', '{{index .Config.Labels "dev.cmesh.reach-network"}}', victim])).trim();
    const network = reach && reach !== '<no value>' ? reach : networks[0]!;
    const [act, undo] =
      scenario === 'disconnect'
        ? [() => run(['network', 'disconnect', network, victim]), () => run(['network', 'connect', network, victim])]
        : [() => run(['pause', victim]), () => run(['unpause', victim])];
    const o = await underLoad(port, act, () => untilRoutable(cli, runId, victim, false));
    await undo();
    const backMs = await untilRoutable(cli, runId, victim, true);
    return { ...o, backMs };
  } finally {
    await cli.teardown(runId, runId);
  }
}

async function main(): Promise<void> {
  await requireDocker();
  const echo = await buildFixtureImage('echo');
  const scenarios: Scenario[] = opts.only ? [opts.only as Scenario] : ['disconnect', 'pause'];
  for (let round = 1; round <= (opts.rounds ?? 1); round++) {
    const modes: Mode[] = opts.mode ? [opts.mode as Mode] : round % 2 === 1 ? ['direct', 'published'] : ['published', 'direct'];
    for (const scenario of scenarios) {
      for (const mode of modes) {
        const t = new Date().toISOString().slice(11, 19);
        const o = await oneRun(mode, scenario, echo, round);
        const load = (await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ');
        console.log(
          `${t}Z round ${round} ${scenario.padEnd(10)} ${mode.padEnd(9)} requests ${o.requests}  failed ${o.failed}  p50 ${o.p50} ms  p99 ${o.p99} ms  max ${o.max} ms  ${scenario} took ${o.actMs} ms, left after ${o.leftMs ?? '>10000'} ms  back after ${o.backMs ?? '>10000'} ms  load ${load}  slow (sent at ms, took ms): ${JSON.stringify(o.slow)}  failed (sent at, took, status): ${JSON.stringify(o.failures)}`,
        );
      }
    }
  }
}

await main();
