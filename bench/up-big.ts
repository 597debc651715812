// bench/up.ts scenarios (b) and (c): a no-op reconcile pass at 200 busybox containers (median of 10; goal ≤ 100 ms)
// and the daemon's VmRSS with 30 replicas running (goal ≤ 80 MB).

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DesiredProject } from '../daemon/api/desired.ts';
import { createDockerEngine } from '../daemon/engine/dockerode-engine.ts';
import { ProjectReconciler } from '../daemon/reconcile/loop.ts';
import { RUN_LABEL, run, TEST_LABEL } from '../test/helpers/docker.ts';
import type { ChainContext } from './up-chain.ts';
import { median } from './median.ts';
import { type Breakdown, breakdown } from './daemon-memory-breakdown.ts';
import { builtAny, buildsText, daemonBuilds } from './up-daemon-builds.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** 4 services × 50 busybox replicas, started at 30 and scaled to 200. */
export async function writeBigProject(work: string, bigProject: string, runId: string): Promise<void> {
  const labels = `    labels:\n      ${TEST_LABEL}: "true"\n      ${RUN_LABEL}: ${runId}\n`;
  const big = ['s1', 's2', 's3', 's4']
    .map((s) => `  ${s}:\n    image: cmesh/busybox:local\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n    deploy: { replicas: 50 }\n${labels}`)
    .join('');
  await writeFile(join(work, 'big.yaml'), `name: ${bigProject}\nservices:\n${big}`);
}

async function daemonPid(home: string): Promise<number> {
  const pid = Number.parseInt(await readFile(join(home, 'daemon.pid'), 'utf8'), 10);
  if (!(pid > 0)) throw new Error('no daemon pid file');
  return pid;
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
  return kb / 1024;
}

/** A reconciler of its own in this process, on the real engine and the daemon's persisted desired state. */
async function benchNoopPass(home: string, bigProject: string): Promise<{ passMs: number[]; actions: number[] }> {
  const desired = JSON.parse(await readFile(join(home, 'projects', `${bigProject}.json`), 'utf8')) as DesiredProject;
  const abort = new AbortController();
  const reconciler = new ProjectReconciler({
    engine: createDockerEngine(),
    name: bigProject,
    getDesired: () => desired,
    emit: () => undefined,
    signal: abort.signal,
    resyncMs: 3_600_000,
  });
  const passMs: number[] = [];
  const actions: number[] = [];
  try {
    await reconciler.reconcileNow(); // warm-up: connections, JIT
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const result = await reconciler.reconcileNow();
      passMs.push(performance.now() - started);
      actions.push(result.actions);
    }
  } finally {
    abort.abort();
  }
  return { passMs, actions };
}

/** (c) then (b): up 30 replicas and sample the daemon's RSS, scale to 200 and time no-op passes. */
export async function benchBig(ctx: ChainContext & { home: string; probeFile?: string }, bigProject: string, verdict: (ok: boolean) => string) {
  ctx.log('(c) daemon RSS with 30 replicas');
  const startedBig = performance.now();
  await ctx.cmesh(['-f', 'big.yaml', 'up', '-d', '--scale', 's1=8', '--scale', 's2=8', '--scale', 's3=7', '--scale', 's4=7'], 600_000);
  const up30Ms = performance.now() - startedBig;
  const pid = await daemonPid(ctx.home);
  // Let a few resync passes and the event stream run, then sample.
  const rss: number[] = [];
  for (let i = 0; i < 6; i++) {
    await sleep(1000);
    rss.push(await rssMb(pid));
  }
  // Everything the daemon built of the gateway in its life so far weighs on these samples, not only this scenario's.
  const builtBefore = await daemonBuilds(join(ctx.home, 'daemon.log'));
  const split: Breakdown | undefined = ctx.probeFile === undefined ? undefined : await breakdown(pid, ctx.probeFile);

  ctx.log('(b) no-op reconcile pass at 200 containers');
  const startedScale = performance.now();
  await ctx.cmesh(['-f', 'big.yaml', 'scale', 's1=50', 's2=50', 's3=50', 's4=50'], 900_000);
  const scale200Ms = performance.now() - startedScale;
  const running = (await run(['ps', '-q', '--filter', `label=dev.cmesh.project=${bigProject}`])).split('\n').filter(Boolean).length;
  const noop = await benchNoopPass(ctx.home, bigProject);
  const rss200 = await rssMb(pid);
  const n = {
    containers: running,
    passMs: noop.passMs.map((x) => Number(x.toFixed(1))),
    medianMs: Number(median(noop.passMs).toFixed(1)),
    actions: noop.actions,
    scaleTo200Ms: Math.round(scale200Ms),
  };
  const m = {
    replicas: 30,
    samplesMb: rss.map((x) => Number(x.toFixed(1))),
    maxMb: Number(Math.max(...rss).toFixed(1)),
    at200Mb: Number(rss200.toFixed(1)),
    up30Ms: Math.round(up30Ms),
    daemonBuilt: builtBefore,
    ...(split ? { breakdown: split } : {}),
  };
  return {
    noop: n,
    rss: m,
    lines: [
      `(b) no-op reconcile at ${running} containers: median ${n.medianMs} ms ${JSON.stringify(n.passMs)} actions ${JSON.stringify(n.actions)} (goal ≤ 100 ms: ${verdict(n.medianMs <= 100)})`,
      `(c) daemon VmRSS with 30 replicas: max ${m.maxMb} MB ${JSON.stringify(m.samplesMb)}; at 200: ${m.at200Mb} MB (goal ≤ 80 MB: ${verdict(m.maxMb <= 80)})`,
      `    the daemon, since its start: ${buildsText(builtBefore)}${builtAny(builtBefore) ? '' : ' (the gateway bundles and image were found)'}`,
      ...(split ? [`    split at the last sample: ${JSON.stringify(split)}`] : []),
      `    (up of 30: ${m.up30Ms} ms; scale 30 → 200: ${n.scaleTo200Ms} ms)`,
    ],
  };
}
