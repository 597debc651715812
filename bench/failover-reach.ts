// What a crash costs the requests in flight, by how the daemon reaches replicas (daemon/engine/replica-reach.ts): a
// real daemon per mode (CMESH_REPLICA_REACH=direct, then published), 2 cmesh-fixture/echo:test replicas behind one
// published port, 8 closed-loop clients (a new connection per request, so every request picks a replica), and
// `docker kill` of replica 1 at 1.5 s while the clients hold off (a crash between requests: no request in flight tells
// the proxy first), then the load again. Prints per mode the requests, the failures, p50/p99/max latency and the
// slowest ones with their start time. A replica reached at its own address whose network is torn down answers nothing
// (a connect waits for ARP to fail, ~2 s): the daemon takes it out on the engine's `die` (daemon/mesh-wiring.ts).
// Bounded: 6 s and ≤ 60 000 requests a mode; loopback only (the daemon's port).
// Usage: npx tsx bench/failover-reach.ts [--rounds N]   (default 1 round of both modes)

import { request, Agent } from 'node:http';
import { type CmeshCli, newCmeshCli } from '../test/helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, requireDocker, run } from '../test/helpers/docker.ts';
import { serviceLabels } from '../test/helpers/echo-project.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { benchArgs } from './args.ts';

const opts = benchArgs('usage: npx tsx bench/failover-reach.ts [--rounds N]', { rounds: { type: 'number' } });
const RUN_MS = 6_000;
const KILL_AT_MS = 1_500;
const MAX_REQUESTS = 60_000;
const CLIENTS = 8;

interface Outcome {
  mode: string;
  requests: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
  /** [ms from the start at which the request was sent, its latency] of requests slower than 200 ms. */
  slow: [number, number][];
}

function get(port: number, agent: Agent): Promise<number | undefined> {
  const t = performance.now();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? performance.now() - t : undefined));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function killUnderLoad(mode: string, port: number, victim: string): Promise<Outcome> {
  const agent = new Agent({ keepAlive: false });
  const latencies: number[] = [];
  const slow: [number, number][] = [];
  let failed = 0;
  let sent = 0;
  const t0 = performance.now();
  let hold: Promise<void> | undefined;
  const client = async (): Promise<void> => {
    while (performance.now() - t0 < RUN_MS && sent < MAX_REQUESTS) {
      if (hold) await hold;
      sent++;
      const at = performance.now() - t0;
      const ms = await get(port, agent);
      if (ms === undefined) failed++;
      else latencies.push(ms);
      if (ms !== undefined && ms > 200) slow.push([Math.round(at), Math.round(ms)]);
    }
  };
  // The kill returns once the container is dead; the load comes back right after, as the next requests of a quiet
  // service would.
  const kill = new Promise<void>((resolve, reject) =>
    setTimeout(() => {
      hold = run(['kill', victim]).then(() => {
        hold = undefined;
      });
      hold.then(resolve, reject);
    }, KILL_AT_MS),
  );
  await Promise.all([...Array.from({ length: CLIENTS }, client), kill]);
  latencies.sort((a, b) => a - b);
  const q = (p: number): number => Number((latencies[Math.floor(p * (latencies.length - 1))] ?? 0).toFixed(1));
  return { mode, requests: sent, failed, p50: q(0.5), p99: q(0.99), max: Math.round(latencies.at(-1) ?? 0), slow: slow.slice(0, 10) };
}

async function oneMode(mode: 'direct' | 'published', echo: string, round: number): Promise<Outcome> {
  const runId = newRunId(`bench-fo-${mode}-${round}`);
  const cli: CmeshCli = await newCmeshCli({ CMESH_REPLICA_REACH: mode });
  try {
    const port = await freePort();
    await cli.writeCompose(runId, `  web:\n    image: ${echo}\n    deploy: { replicas: 2 }\n    ports: ["127.0.0.1:${port}:3000"]\n${serviceLabels(runId)}`);
    await cli.ok(['up', '-d', '--wait', '--timeout', '60'], 120_000);
    const replicas = (await cli.ps()).filter((r) => r.service === 'web' && r.state === 'running');
    const ways = replicas.map((r) => (r.endpoints.every((e) => e.direct === true) ? 'direct' : 'published'));
    if (replicas.length !== 2 || ways.some((w) => w !== mode)) throw new Error(`expected 2 ${mode} replicas, got ${JSON.stringify(ways)}`);
    return await killUnderLoad(mode, port, replicas.find((r) => r.replica === 1)!.container);
  } finally {
    await cli.teardown(runId, runId);
  }
}

async function main(): Promise<void> {
  await requireDocker();
  const echo = await buildFixtureImage('echo');
  for (let round = 1; round <= (opts.rounds ?? 1); round++) {
    for (const mode of round % 2 === 1 ? (['direct', 'published'] as const) : (['published', 'direct'] as const)) {
      const o = await oneMode(mode, echo, round);
      console.log(
        `round ${round} ${o.mode.padEnd(9)} requests ${o.requests}  failed ${o.failed}  p50 ${o.p50} ms  p99 ${o.p99} ms  max ${o.max} ms  slow (sent at ms, took ms): ${JSON.stringify(o.slow)}`,
      );
    }
  }
}

await main();
