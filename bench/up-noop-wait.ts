// bench/up.ts scenario (g): a no-op `up -d --wait` of a running service without a healthcheck (3 replicas of busybox
// sleeping), beside the no-op `up -d` of the same project in the same round. A replica without a healthcheck is ready
// once it has run for the wait's settle period (1 s: daemon/reconcile/ready.ts); the container list does not say when
// a container started, so unless the daemon knows it otherwise every such `--wait` pays that second again.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { median } from './median.ts';
import type { ChainContext } from './up-chain.ts';

export const NOOP_WAIT_FILE = 'plain.yaml';

async function writePlainFile(ctx: ChainContext): Promise<void> {
  const labels = Object.entries(ctx.labels).map(([k, v]) => `      ${k}: "${v}"\n`).join('');
  const service = `  plain:\n    image: cmesh/busybox:local\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n    deploy:\n      replicas: 3\n    labels:\n${labels}`;
  await writeFile(join(ctx.work, NOOP_WAIT_FILE), `services:\n${service}`);
}

/** `rounds` rounds, each `noops` of `up -d` and of `up -d --wait` (their order alternating), on one running project. */
export async function benchNoopWait(ctx: ChainContext, project: string, rounds: number, noops: number): Promise<{ result: Record<string, unknown>; lines: string[] }> {
  await writePlainFile(ctx);
  const base = ['-p', project, '-f', NOOP_WAIT_FILE, 'up', '-d'];
  await ctx.cmesh([...base, '--wait', '--timeout', '60']);
  // One of each untimed: the CLI's fast bundle and the daemon's paths are warm for both.
  await ctx.cmesh(base);
  await ctx.cmesh([...base, '--wait']);
  const up: number[] = [];
  const wait: number[] = [];
  const perRound: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? ['up', 'wait'] : ['wait', 'up'];
    const round: Record<string, number[]> = { up: [], wait: [] };
    for (const which of order) {
      for (let n = 0; n < noops; n++) round[which]!.push(await ctx.cmesh(which === 'wait' ? [...base, '--wait'] : base));
    }
    up.push(...round['up']!);
    wait.push(...round['wait']!);
    perRound.push(median(round['wait']!) / median(round['up']!));
    ctx.log(`  round ${i + 1}: no-op up -d ${median(round['up']!).toFixed(0)} ms, up -d --wait ${median(round['wait']!).toFixed(0)} ms`);
  }
  await ctx.cmesh(['-p', project, '-f', NOOP_WAIT_FILE, 'down']);
  const ms = (xs: number[]) => xs.map(Math.round);
  const result = {
    upMs: ms(up),
    waitMs: ms(wait),
    upMedianMs: Math.round(median(up)),
    waitMedianMs: Math.round(median(wait)),
    waitOverUpPerRound: perRound.map((r) => Number(r.toFixed(2))),
  };
  const lines = [
    `(g) no-op up -d --wait, 3 replicas without a healthcheck: median ${result.waitMedianMs} ms ${JSON.stringify(result.waitMs)}`,
    `    no-op up -d of the same project: median ${result.upMedianMs} ms ${JSON.stringify(result.upMs)}`,
    `    --wait ÷ no wait, per round: ${result.waitOverUpPerRound.join(', ')}`,
  ];
  return { result, lines };
}
