// bench/up.ts scenario (a): `up -d --wait` of 3 services × 3 echo replicas with a 1 s healthcheck, cmesh with east-west
// off and on vs docker-compose 1.29 `up -d --scale` + polling `docker inspect` until healthy, beside two engine floors:
//   - health floor: the same 9 containers created and started at once through the engine API, polled until Docker
//     says healthy (Engine 20.10 runs the first healthcheck one interval after start);
//   - probe floor: the same, each container's healthcheck test run by exec in a tight loop from its start until it
//     passes, with no cap — the least a client that judges readiness by the test itself (as cmesh does) can pay.
// With east-west on, two more floors bound what any east-west gateway design can cost (floor-up.ts's `gateway`, a bare
// node listener holding the three names): the probe floor plus a gateway container created and started per up (today's
// per-project gateway), and plus one kept running and only connected to the up's network (a gateway kept between ups).
// Reps rotate the order so drift in machine load hits all alike.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../test/helpers/docker.ts';
import { FLOOR, HEALTH_CMD, HEALTH_FLOOR, runVariant, startKeptGateway } from './floor-up.ts';
import type { ChainContext } from './up-chain.ts';

const HEALTH_TEST = ['CMD', ...HEALTH_CMD];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const SCALE = ['--scale', 'a=3', '--scale', 'b=3', '--scale', 'c=3'];

/** Polls `docker inspect` (every 100 ms) until `count` containers of the compose project are healthy. */
export async function composeHealthy(project: string, count: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ids = (await run(['ps', '-q', '--filter', `label=com.docker.compose.project=${project}`])).split('\n').filter(Boolean);
    if (ids.length === count) {
      const health = (await run(['inspect', '--format', '{{.State.Health.Status}}', ...ids])).split('\n');
      if (health.every((h) => h === 'healthy')) return;
    }
    await sleep(100);
  }
  throw new Error(`compose project not healthy within ${timeoutMs} ms`);
}

export interface UpResult {
  cmeshMs: number[];
  cmeshEwMs: number[];
  /** East-west on, a gateway container per project (a second daemon, CMESH_GATEWAY_SHARED=0; east-west on only). */
  cmeshOwnMs: number[];
  composeMs: number[];
  floorMs: number[];
  probeFloorMs: number[];
  /** The probe floor plus a gateway container started per up (east-west on only). */
  gatewayFloorMs: number[];
  /** The probe floor plus a gateway kept running, connected to the up's network (east-west on only). */
  keptGatewayFloorMs: number[];
}

/** The 3×3's three echo services (a 1 s healthcheck each; 3 replicas each with `withReplicas`), labelled `labels`. */
export function echoServices(labels: Record<string, string>, image: string, withReplicas: boolean): string {
  const labelLines = Object.entries(labels).map(([k, v]) => `      ${k}: "${v}"\n`).join('');
  const healthcheck = `    healthcheck:\n      test: ${JSON.stringify(HEALTH_TEST)}\n      interval: 1s\n      timeout: 2s\n      retries: 3\n`;
  return ['a', 'b', 'c']
    .map((s) => `  ${s}:\n    image: ${image}\n    environment: { SHUTDOWN_GRACE_MS: "200" }\n    expose: ["3000"]\n${withReplicas ? '    deploy: { replicas: 3 }\n' : ''}${healthcheck}    labels:\n${labelLines}`)
    .join('');
}

/** cmesh's two files (east-west off and on; projects named with -p) and compose 1.29's (format 2.4: healthcheck + scale). */
export async function writeUpFiles(ctx: ChainContext, image: string): Promise<{ off: string; on: string; compose: string }> {
  const files = { off: join(ctx.work, 'up-ew-off.yaml'), on: join(ctx.work, 'up-ew-on.yaml'), compose: join(ctx.work, 'compose-1.29.yaml') };
  await writeFile(files.off, `x-cmesh: { east_west: false }\nservices:\n${echoServices(ctx.labels, image, true)}`);
  await writeFile(files.on, `x-cmesh: { east_west: true }\nservices:\n${echoServices(ctx.labels, image, true)}`);
  // Neither side publishes a port (compose 1.29 cannot publish one host port for N replicas), so both do the same work.
  await writeFile(files.compose, `version: "2.4"\nservices:\n${echoServices(ctx.labels, image, false)}`);
  return files;
}

/** One floor run: a network, 9 containers created and started at once, then ready by Docker's word or by exec probes. */
export async function floorUp(ctx: ChainContext, image: string, tag: string, probe: boolean): Promise<number> {
  return (await runVariant(ctx.engine, image, ctx.labels, probe ? FLOOR : HEALTH_FLOOR, `${ctx.runId}-floor${tag}`)).wholeMs;
}

/** The probe floor with a stand-in gateway, started per up or kept (`standby`) and connected. */
async function gatewayFloorUp(ctx: ChainContext, image: string, tag: string, standby: string | undefined): Promise<number> {
  const v = { ...FLOOR, name: standby ? 'kept-gateway-floor' : 'gateway-floor', gateway: standby ? ('connect' as const) : ('start' as const) };
  return (await runVariant(ctx.engine, image, ctx.labels, v, `${ctx.runId}-floor${tag}`, standby)).wholeMs;
}

/** REPS rotating rounds of the five contenders; cmesh gets one untimed warm-up per file, compose one. */
export async function benchUp(ctx: ChainContext, image: string, reps: number, eastWest: boolean): Promise<UpResult> {
  const files = await writeUpFiles(ctx, image);
  const cmeshProject = (ew: boolean) => `${ctx.runId}-${ew ? 'ew' : 'cm'}`;
  const composeProject = `${ctx.runId.replace(/-/g, '')}dc`;
  const cmeshUp = async (ew: boolean): Promise<number> => {
    const ms = await ctx.cmesh(['-p', cmeshProject(ew), '-f', ew ? files.on : files.off, 'up', '-d', '--wait', '--timeout', '60']);
    await ctx.cmesh(['-p', cmeshProject(ew), '-f', ew ? files.on : files.off, 'down']);
    return ms;
  };
  const ownUp = async (): Promise<number> => {
    const ms = await ctx.cmeshOwnGateway!(['-p', `${ctx.runId}-own`, '-f', files.on, 'up', '-d', '--wait', '--timeout', '60']);
    await ctx.cmeshOwnGateway!(['-p', `${ctx.runId}-own`, '-f', files.on, 'down']);
    return ms;
  };
  const composeUp = async (): Promise<number> => {
    const started = performance.now();
    await ctx.compose(['-p', composeProject, '-f', files.compose, 'up', '-d', ...SCALE]);
    await ctx.composeHealthy(composeProject, 9);
    const ms = performance.now() - started;
    await ctx.compose(['-p', composeProject, '-f', files.compose, 'down', '-t', '1']);
    return ms;
  };
  const out: UpResult = { cmeshMs: [], cmeshEwMs: [], cmeshOwnMs: [], composeMs: [], floorMs: [], probeFloorMs: [], gatewayFloorMs: [], keptGatewayFloorMs: [] };
  // The kept gateway's stand-in: started once on the default bridge, removed with the run's label (ctx.labels).
  let standby: string | undefined;
  if (eastWest) standby = await startKeptGateway(ctx.engine, `${ctx.runId}-kept-gateway`, ctx.labels);
  try {
    // Warm every path once, untimed (image layers in the page cache, the daemon's modules, the gateway image).
    await floorUp(ctx, image, 'warm', true);
    if (eastWest) await gatewayFloorUp(ctx, image, 'warm-gw', undefined);
    await cmeshUp(false);
    if (eastWest) await cmeshUp(true);
    // The daemon's shared gateway is made by the first east-west up above, untimed like every warm-up, and kept.
    if (eastWest && ctx.cmeshOwnGateway) await ownUp();
    await composeUp();
    const contenders: [keyof UpResult, () => Promise<number>][] = [
      ['cmeshMs', () => cmeshUp(false)],
      ...(eastWest ? [['cmeshEwMs', () => cmeshUp(true)] as [keyof UpResult, () => Promise<number>]] : []),
      ...(eastWest && ctx.cmeshOwnGateway ? [['cmeshOwnMs', ownUp] as [keyof UpResult, () => Promise<number>]] : []),
      ['composeMs', composeUp],
      ['floorMs', () => floorUp(ctx, image, `h${out.floorMs.length}`, false)],
      ['probeFloorMs', () => floorUp(ctx, image, `p${out.probeFloorMs.length}`, true)],
      ...(eastWest
        ? ([
            ['gatewayFloorMs', () => gatewayFloorUp(ctx, image, `g${out.gatewayFloorMs.length}`, undefined)],
            ['keptGatewayFloorMs', () => gatewayFloorUp(ctx, image, `k${out.keptGatewayFloorMs.length}`, standby)],
          ] as [keyof UpResult, () => Promise<number>][])
        : []),
    ];
    for (let i = 0; i < reps; i++) {
      const order = contenders.map((_, j) => contenders[(i + j) % contenders.length]!);
      for (const [key, run] of order) out[key].push(await run());
      ctx.log(`  rep ${i + 1}: ${contenders.map(([key]) => `${key.replace(/Ms$/, '')} ${out[key].at(-1)?.toFixed(0) ?? '-'} ms`).join(', ')}`);
    }
  } finally {
    if (standby) await ctx.engine.removeContainer(standby, { force: true });
  }
  return out;
}
