// Is bench (a)'s probe floor (9 containers created and started at once, exec probes in a tight loop) the fastest way
// through the engine? Variants of the same 9-container 3×3 up straight through the engine API, interleaved in one run
// (rounds rotate the order so load drift hits all alike):
//   - starts at concurrency 1, 2, 3, 4, 9 (create+start per container through a pool of that size);
//   - create all 9, then start all 9 (phased) instead of create+start per container;
//   - no user network (default bridge): the bound on what creating the network beside the creates could save;
//   - probe cadence 20 ms after each exec (today's floor), 25 / 50 / 100 ms from each exec's start, cmesh's own
//     settings (100 ms, at most 2 execs in flight for the whole project) and its neighbours (cap 2 at 50 ms, cap 4 at
//     100 ms), and probes held until the last start returns;
//   - a stand-in gateway (floor-up.ts's `gateway`): a 10th container started beside the 9, or one kept running and
//     connected to the run's network: what a gateway kept between ups would save over one made per up; and the
//     gateway started first, the 9 starts held until its start returned (gw-first).
// Per variant: the median whole up (first engine call → last container passes its test) and the median time to the
// last start returning, so start contention and probe cost can be told apart, and each variant ÷ the floor of the
// same round (paired: drift between rounds cancels).
// Usage: npx tsx bench/up-floor-variants.ts [--reps N] [--only name,name] [--json]   (default 3 reps, all variants)
// Local images only (fixtures/docker/echo); everything labelled dev.cmesh.test=true plus a run label, removed at the end.

import { readdir, readFile } from 'node:fs/promises';
import { createDockerEngine } from '../daemon/engine/dockerode-engine.ts';
import { buildFixtureImage, cleanup, newRunId, RUN_LABEL, TEST_LABEL } from '../test/helpers/docker.ts';
import { benchArgs, usageError } from './args.ts';
import { FLOOR, type FloorVariant, runVariant, startKeptGateway, type VariantRun } from './floor-up.ts';
import { median } from './median.ts';

export const VARIANTS: FloorVariant[] = [
  FLOOR,
  ...[1, 2, 3, 4].map((c) => ({ ...FLOOR, name: `c${c}`, concurrency: c })),
  { ...FLOOR, name: 'phased', phased: true },
  { ...FLOOR, name: 'bridge', userNetwork: false },
  ...[25, 50, 100].map((ms) => ({ ...FLOOR, name: `every${ms}`, cadenceMs: ms, cadence: 'from-start' as const })),
  { ...FLOOR, name: 'cmesh-probes', cadenceMs: 100, cadence: 'from-start', probeCap: 2 },
  { ...FLOOR, name: 'cap2-every50', cadenceMs: 50, cadence: 'from-start', probeCap: 2 },
  { ...FLOOR, name: 'cap4-every100', cadenceMs: 100, cadence: 'from-start', probeCap: 4 },
  { ...FLOOR, name: 'after-starts', probesAfterStarts: true },
  { ...FLOOR, name: 'unpublished', publish: false },
  { ...FLOOR, name: 'published', publishAlways: true },
  { ...FLOOR, name: 'noinit', init: false },
  { ...FLOOR, name: 'unpub-noinit', publish: false, init: false },
  { ...FLOOR, name: 'net-beside', networkBeside: true },
  { ...FLOOR, name: 'port-gate', portGate: true },
  { ...FLOOR, name: 'cmesh-gated', cadenceMs: 100, cadence: 'from-start', probeCap: 2, portGate: true },
  { ...FLOOR, name: 'gw-start', gateway: 'start' },
  { ...FLOOR, name: 'gw-connect', gateway: 'connect' },
  { ...FLOOR, name: 'gw-first', gateway: 'start', gatewayFirst: true },
];

/** dockerd's own CPU ms and that of the children it reaped (iptables, docker-proxy), containerd's own: what the engine spent. */
async function engineCpu(): Promise<number[]> {
  const read = async (name: string, fields: number[]) => {
    for (const pid of await readdir('/proc').catch(() => [] as string[])) {
      if (!/^\d+$/.test(pid)) continue;
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      if (!stat.includes(`(${name})`)) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return fields.reduce((sum, i) => sum + Number(f[i] ?? 0), 0) * 10;
    }
    return 0;
  };
  return [await read('dockerd', [11, 12]), await read('dockerd', [13, 14]), await read('containerd', [11, 12])];
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
  const cpu = new Map<string, number[][]>(variants.map((v) => [v.name, []]));
  const loadBefore = await loadavg();
  try {
    const image = await buildFixtureImage('echo');
    await runVariant(engine, image, labels, FLOOR, `${runId}-warm`); // page cache, the engine's image lookups: untimed
    // gw-connect's gateway, started once on the default bridge and connected to each run's network (removed by cleanup).
    const standby = variants.some((v) => v.gateway === 'connect') ? await startKeptGateway(engine, `${runId}-standby`, labels) : undefined;
    if (variants.some((v) => v.gateway === 'start')) await runVariant(engine, image, labels, { ...FLOOR, gateway: 'start' }, `${runId}-warm-gw`);
    for (let i = 0; i < reps; i++) {
      const order = variants.map((_, j) => variants[(i * 3 + j) % variants.length]!);
      for (const v of order) {
        const before = await engineCpu();
        out.get(v.name)!.push(await runVariant(engine, image, labels, v, `${runId}-${v.name}-${i}`, standby));
        // Includes the run's own removal of its 9 containers (runVariant removes before it returns): alike for all.
        cpu.get(v.name)!.push((await engineCpu()).map((x, j) => x - before[j]!));
      }
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
    return { name: v.name, wholeMs: runs.map((r) => Math.round(r.wholeMs)), medianMs: Math.round(whole), lastStartMedianMs: Math.round(median(runs.map((r) => r.lastStartMs))), lastStartAskedMs: runs.map((r) => Math.round(r.lastStartAskedMs)), lastStartAskedMedianMs: Math.round(median(runs.map((r) => r.lastStartAskedMs))), execsMedian: median(runs.map((r) => r.execs)), vsFloor: Number((whole / floor).toFixed(2)), pairedVsFloor: Number(paired.toFixed(2)) };
  });
  const load = `${loadBefore} → ${await loadavg()}`;
  if (opts.json) process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), load, reps, rows }, null, 2)}\n`);
  else {
    process.stdout.write(`date ${new Date().toISOString()}  load ${load}  reps ${reps}\n`);
    for (const v of variants) {
      const c = cpu.get(v.name)!;
      process.stdout.write(`${v.name.padEnd(13)} engine CPU per run (up + removal), median ms: dockerd ${median(c.map((x) => x[0]!))}, its children ${median(c.map((x) => x[1]!))}, containerd ${median(c.map((x) => x[2]!))}\n`);
    }
    for (const r of rows) process.stdout.write(`${r.name.padEnd(13)} median ${r.medianMs} ms ${JSON.stringify(r.wholeMs)}  last start ${r.lastStartMedianMs} ms  last start asked ${r.lastStartAskedMedianMs} ms ${JSON.stringify(r.lastStartAskedMs)}  execs ${r.execsMedian}  ÷ floor ${r.vsFloor}× (paired per round ${r.pairedVsFloor}×)\n`);
  }
}

await main();
