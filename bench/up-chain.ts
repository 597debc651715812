// bench/up.ts scenarios (d) and (e): a three-level depends_on chain and a no-op `up -d`, cmesh vs docker-compose 1.29
// on the same compose file, each beside the engine floor.
//   (d) db ← api1, api2 ← web, each `condition: service_healthy`, healthcheck interval 5 s (busybox httpd). cmesh:
//       `up -d --wait`; compose: `up -d` (it gates each level on Docker's health) then polling until all are healthy
//       by Docker's word. For both, an outside poller records when web first answers through its published port.
//       Floor: the same containers created and started level by level through the engine API, each level gated on
//       the healthcheck run by exec in a tight loop — the least any client that honours the gates must pay.
//   (e) a no-op `up -d` of that running project; floor: the one container list a no-op needs.

import { request } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerEngine } from '../daemon/api/engine.ts';

export interface ChainContext {
  work: string;
  runId: string;
  labels: Record<string, string>;
  engine: ContainerEngine;
  /** Runs the cmesh CLI in `work`; resolves with the wall time, throws on a non-zero exit. */
  cmesh: (argv: string[], timeoutMs?: number) => Promise<number>;
  /** The same with a second daemon (a home of its own) giving each project gateways of its own (CMESH_GATEWAY_SHARED=0). */
  cmeshOwnGateway?: (argv: string[], timeoutMs?: number) => Promise<number>;
  /** Runs docker-compose 1.29 in `work`, likewise. */
  compose: (argv: string[]) => Promise<number>;
  /** Polls until every container of the compose project is healthy by Docker's word. */
  composeHealthy: (project: string, count: number) => Promise<void>;
  log: (line: string) => void;
}

const IMAGE = 'cmesh/busybox:local';
const HEALTH = ['CMD', 'wget', '-q', '-O-', 'http://127.0.0.1:8080/'];
const LEVELS = [['db'], ['api1', 'api2'], ['web']];
const DEPENDS: Record<string, string[]> = { db: [], api1: ['db'], api2: ['db'], web: ['api1', 'api2'] };
const httpd = (name: string): string[] => ['sh', '-c', `mkdir -p /www && echo ${name} > /www/index.html && exec busybox httpd -f -p 8080 -h /www`];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One file for both tools (no `name:`, which compose 1.29 does not know: both get `-p`). */
export async function writeChainFile(ctx: ChainContext, port: number): Promise<string> {
  const labels = Object.entries(ctx.labels).map(([k, v]) => `      ${k}: "${v}"\n`).join('');
  const service = (name: string): string =>
    [
      `  ${name}:\n    image: ${IMAGE}\n    command: ${JSON.stringify(httpd(name))}\n    stop_grace_period: 1s\n`,
      `    healthcheck:\n      test: ${JSON.stringify(HEALTH)}\n      interval: 5s\n      timeout: 2s\n      retries: 3\n`,
      `    labels:\n${labels}`,
      DEPENDS[name]!.length > 0 ? `    depends_on:\n${DEPENDS[name]!.map((d) => `      ${d}: { condition: service_healthy }\n`).join('')}` : '',
      name === 'web' ? `    ports: ["127.0.0.1:${port}:8080"]\n` : '',
    ].join('');
  const file = join(ctx.work, 'chain.yaml');
  await writeFile(file, `services:\n${Object.keys(DEPENDS).map(service).join('')}`);
  return 'chain.yaml';
}

/** Resolves with the ms (from `since`) of the first 200 from 127.0.0.1:port, polling every 25 ms; bounded. */
function firstAnswer(port: number, since: number, stop: AbortSignal, timeoutMs = 120_000): Promise<number | undefined> {
  const once = (): Promise<boolean> =>
    new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/', timeout: 500 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
      req.end();
    });
  return (async () => {
    while (!stop.aborted && performance.now() - since < timeoutMs) {
      if (await once()) return performance.now() - since;
      await sleep(25);
    }
    return undefined;
  })();
}

/** Runs `up` while an outside poller watches the published port; returns both times (the poller may outlast `up`). */
async function timed(port: number, up: () => Promise<void>): Promise<{ upMs: number; answerMs: number }> {
  const stop = new AbortController();
  const started = performance.now();
  const answer = firstAnswer(port, started, stop.signal);
  try {
    await up();
  } catch (err) {
    stop.abort();
    throw err;
  }
  const upMs = performance.now() - started;
  const answerMs = await answer;
  if (answerMs === undefined) throw new Error(`port ${port} never answered`);
  return { upMs, answerMs };
}

export async function cmeshChain(ctx: ChainContext, file: string, project: string, port: number): Promise<{ upMs: number; answerMs: number }> {
  return timed(port, async () => {
    await ctx.cmesh(['-p', project, '-f', file, 'up', '-d', '--wait', '--timeout', '90']);
  });
}

export async function composeChain(ctx: ChainContext, file: string, project: string, port: number): Promise<{ upMs: number; answerMs: number }> {
  return timed(port, async () => {
    await ctx.compose(['-p', project, '-f', file, 'up', '-d']);
    await ctx.composeHealthy(project, 4);
  });
}

/**
 * The floor: level by level through the engine API, each level gated on its healthcheck run by exec; it ends when web
 * passes its own check (an HTTP answer inside the container), so it has one number where the tools have two.
 */
export async function floorChain(ctx: ChainContext, rep: number): Promise<number> {
  const network = `${ctx.runId}-chainfloor${rep}`;
  const ids: string[] = [];
  const started = performance.now();
  try {
    await ctx.engine.createNetwork({ name: network, labels: ctx.labels });
    for (const level of LEVELS) {
      await Promise.all(
        level.map(async (name) => {
          const { id } = await ctx.engine.createContainer({
            name: `${network}-${name}`,
            image: IMAGE,
            command: httpd(name),
            env: {},
            labels: ctx.labels,
            ports: name === 'web' ? [{ containerPort: 8080, protocol: 'tcp' }] : [],
            healthcheck: { test: HEALTH, intervalMs: 5_000, timeoutMs: 2_000, retries: 3, disable: false },
            mounts: [],
            networks: [{ name: network, aliases: [name] }],
            init: false,
          });
          ids.push(id);
          await ctx.engine.startContainer(id);
          const deadline = Date.now() + 60_000;
          while ((await ctx.engine.exec(id, HEALTH.slice(1), { timeoutMs: 2_000 })).exitCode !== 0) {
            if (Date.now() > deadline) throw new Error(`floor ${name} never passed its healthcheck`);
            await sleep(20);
          }
        }),
      );
    }
    return performance.now() - started;
  } finally {
    await Promise.all(ids.map((id) => ctx.engine.removeContainer(id, { force: true })));
    await ctx.engine.removeNetwork(network).catch(() => undefined);
  }
}

/** The no-op floor: the one container list (by project label) a no-op `up` needs, timed from this process. */
export async function listFloor(ctx: ChainContext, project: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await ctx.engine.listContainers({ labels: { 'dev.cmesh.project': project }, all: true });
    out.push(performance.now() - started);
  }
  return out;
}
