// Is bench (a)'s probe floor (9 containers created and started at once, exec probes in a tight loop) the fastest way
// through the engine? Variants of the same 9-container 3×3 up straight through the engine API, interleaved in one run
// (rounds rotate the order so load drift hits all alike):
//   - starts at concurrency 1, 2, 3, 4, 9 (create+start per container through a pool of that size);
//   - create all 9, then start all 9 (phased) instead of create+start per container;
//   - no user network (default bridge): the bound on what creating the network beside the creates could save;
//   - probe cadence 20 ms after each exec (today's floor), 25 / 50 / 100 ms from each exec's start, cmesh's own
//     settings (100 ms, at most 2 execs in flight for the whole project) and its neighbours (cap 2 at 50 ms, cap 4 at
//     100 ms), and probes held until the last start returns.
// Per variant: the median whole up (first engine call → last container passes its test) and the median time to the
// last start returning, so start contention and probe cost can be told apart, and each variant ÷ the floor of the
// same round (paired: drift between rounds cancels).
// Usage: npx tsx bench/up-floor-variants.ts [--reps N] [--only name,name] [--json]   (default 3 reps, all variants)
// Local images only (fixtures/docker/echo); everything labelled dev.cmesh.test=true plus a run label, removed at the end.

import { readFile } from 'node:fs/promises';
import type { ContainerEngine } from '../daemon/api/engine.ts';
import { createDockerEngine } from '../daemon/engine/dockerode-engine.ts';
import { buildFixtureImage, cleanup, newRunId, RUN_LABEL, TEST_LABEL } from '../test/helpers/docker.ts';
import { benchArgs, usageError } from './args.ts';
import { median } from './median.ts';

const HEALTH_CMD = ['wget', '-q', '-O-', 'http://127.0.0.1:3000/healthz'];
const HEALTH = { test: ['CMD', ...HEALTH_CMD], intervalMs: 1000, timeoutMs: 2000, retries: 3, disable: false };
const COUNT = 9;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface FloorVariant {
  name: string;
  /** Containers created+started at once (a pool); with `phased`, creates and starts each go through the pool. */
  concurrency: number;
  phased: boolean;
  /** false: the default bridge, no network create (the bound for a network created beside the creates). */
  userNetwork: boolean;
  /** 'after-exec': sleep this long after a failed exec (today's floor); 'from-start': from each exec's start (cmesh). */
  cadenceMs: number;
  cadence: 'after-exec' | 'from-start';
  /** Execs in flight for all 9 at once (Infinity: one per container, no shared cap). */
  probeCap: number;
  /** Hold every probe until the last start has returned (probes never compete with starts). */
  probesAfterStarts: boolean;
}

const base: FloorVariant = { name: 'floor', concurrency: COUNT, phased: false, userNetwork: true, cadenceMs: 20, cadence: 'after-exec', probeCap: Number.POSITIVE_INFINITY, probesAfterStarts: false };
export const VARIANTS: FloorVariant[] = [
  base,
  ...[1, 2, 3, 4].map((c) => ({ ...base, name: `c${c}`, concurrency: c })),
  { ...base, name: 'phased', phased: true },
  { ...base, name: 'bridge', userNetwork: false },
  ...[25, 50, 100].map((ms) => ({ ...base, name: `every${ms}`, cadenceMs: ms, cadence: 'from-start' as const })),
  { ...base, name: 'cmesh-probes', cadenceMs: 100, cadence: 'from-start', probeCap: 2 },
  { ...base, name: 'cap2-every50', cadenceMs: 50, cadence: 'from-start', probeCap: 2 },
  { ...base, name: 'cap4-every100', cadenceMs: 100, cadence: 'from-start', probeCap: 4 },
  { ...base, name: 'after-starts', probesAfterStarts: true },
];

/** A counting semaphore (bench-local: the daemon's Slots wants an AbortSignal per take). */
function pool(size: number): <T>(work: () => Promise<T>) => Promise<T> {
  let free = size;
  const waiters: (() => void)[] = [];
  return async (work) => {
    if (free > 0) free--;
    else await new Promise<void>((r) => waiters.push(r));
    try {
      return await work();
    } finally {
      const next = waiters.shift();
      if (next) next();
      else free++;
    }
  };
}

export interface VariantRun {
  wholeMs: number;
  lastStartMs: number;
  execs: number;
}

/** One up of 9 containers by the variant's rules; everything it created is removed before it returns. */
export async function runVariant(engine: ContainerEngine, image: string, labels: Record<string, string>, v: FloorVariant, tag: string): Promise<VariantRun> {
  const network = `${labels[RUN_LABEL]}-${tag}`;
  const ids: string[] = [];
  const slot = pool(v.concurrency);
  const execSlot = pool(Number.isFinite(v.probeCap) ? v.probeCap : COUNT);
  let execs = 0;
  let lastStart = 0;
  let startsLeft = COUNT;
  let allStarted: () => void = () => undefined;
  const startsDone = new Promise<void>((r) => (allStarted = r));
  const t0 = performance.now();
  const create = async (i: number): Promise<string> => {
    const { id } = await engine.createContainer({
      name: `${network}-${i + 1}`,
      image,
      env: { SHUTDOWN_GRACE_MS: '200' },
      labels,
      ports: [{ containerPort: 3000, protocol: 'tcp' }],
      healthcheck: HEALTH,
      mounts: [],
      networks: v.userNetwork ? [{ name: network, aliases: [] }] : [],
      init: true,
    });
    ids.push(id);
    return id;
  };
  const start = async (id: string): Promise<void> => {
    await engine.startContainer(id);
    lastStart = performance.now() - t0;
    if (--startsLeft === 0) allStarted();
  };
  const probe = async (id: string): Promise<void> => {
    if (v.probesAfterStarts) await startsDone;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const began = performance.now();
      execs++;
      const r = await execSlot(() => engine.exec(id, HEALTH_CMD, { timeoutMs: 2_000 }));
      if (r.exitCode === 0) return;
      if (Date.now() > deadline) throw new Error(`floor variant ${v.name}: a container never passed its healthcheck`);
      await sleep(v.cadence === 'after-exec' ? v.cadenceMs : Math.max(0, v.cadenceMs - (performance.now() - began)));
    }
  };
  try {
    if (v.userNetwork) await engine.createNetwork({ name: network, labels });
    const idx = Array.from({ length: COUNT }, (_, i) => i);
    if (v.phased) {
      const created = await Promise.all(idx.map((i) => slot(() => create(i))));
      await Promise.all(created.map((id) => slot(() => start(id)).then(() => probe(id))));
    } else {
      await Promise.all(idx.map(async (i) => probe(await slot(async () => {
        const id = await create(i);
        await start(id);
        return id;
      }))));
    }
    return { wholeMs: performance.now() - t0, lastStartMs: lastStart, execs };
  } finally {
    await Promise.all(ids.map((id) => engine.removeContainer(id, { force: true })));
    if (v.userNetwork) await engine.removeNetwork(network).catch(() => undefined);
  }
}

const loadavg = async (): Promise<string> => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');

async function main(): Promise<void> {
  const USAGE = 'usage: npx tsx bench/up-floor-variants.ts [--reps N] [--only name,name] [--json]';
  const opts = benchArgs(USAGE, { reps: { type: 'number' }, only: { type: 'string' }, json: { type: 'boolean' } });
  const reps = opts.reps || 3;
  const names = opts.only?.split(',');
  for (const n of names ?? []) if (!VARIANTS.some((v) => v.name === n)) usageError(`unknown variant '${n}' (${VARIANTS.map((v) => v.name).join(', ')})`, USAGE);
  const variants = names ? VARIANTS.filter((v) => names.includes(v.name)) : VARIANTS;
  const runId = newRunId('bench-fv');
  const labels = { [TEST_LABEL]: 'true', [RUN_LABEL]: runId };
  const engine = createDockerEngine();
  const out = new Map<string, VariantRun[]>(variants.map((v) => [v.name, []]));
  const loadBefore = await loadavg();
  try {
    const image = await buildFixtureImage('echo');
    await runVariant(engine, image, labels, base, 'warm'); // page cache, the engine's image lookups: untimed
    for (let i = 0; i < reps; i++) {
      const order = variants.map((_, j) => variants[(i * 3 + j) % variants.length]!);
      for (const v of order) out.get(v.name)!.push(await runVariant(engine, image, labels, v, `${v.name}-${i}`));
      process.stderr.write(`  round ${i + 1} (load ${await loadavg()}): ${variants.map((v) => `${v.name} ${out.get(v.name)!.at(-1)!.wholeMs.toFixed(0)}`).join(', ')}\n`);
    }
  } finally {
    await cleanup(runId).catch((e: unknown) => process.stderr.write(`cleanup: ${String(e)}\n`));
  }
  const floor = median(out.get('floor')?.map((r) => r.wholeMs) ?? []);
  const rows = variants.map((v) => {
    const runs = out.get(v.name)!;
    const whole = median(runs.map((r) => r.wholeMs));
    // Paired: each round's variant ÷ the same round's floor, so drift between rounds cancels.
    const paired = median(runs.map((r, i) => r.wholeMs / (out.get('floor')?.[i]?.wholeMs ?? Number.NaN)));
    return { name: v.name, wholeMs: runs.map((r) => Math.round(r.wholeMs)), medianMs: Math.round(whole), lastStartMedianMs: Math.round(median(runs.map((r) => r.lastStartMs))), execsMedian: median(runs.map((r) => r.execs)), vsFloor: Number((whole / floor).toFixed(2)), pairedVsFloor: Number(paired.toFixed(2)) };
  });
  const load = `${loadBefore} → ${await loadavg()}`;
  if (opts.json) process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), load, reps, rows }, null, 2)}\n`);
  else {
    process.stdout.write(`date ${new Date().toISOString()}  load ${load}  reps ${reps}\n`);
    for (const r of rows) process.stdout.write(`${r.name.padEnd(13)} median ${r.medianMs} ms ${JSON.stringify(r.wholeMs)}  last start ${r.lastStartMedianMs} ms  execs ${r.execsMedian}  ÷ floor ${r.vsFloor}× (paired per round ${r.pairedVsFloor}×)\n`);
  }
}

await main();
