// CPU per GC of the `nodejs_gc_duration_seconds` observer: prom-client's (collectDefaultMetrics) vs the daemon's own
// (daemon/metrics-defaults.ts) vs none, under the daemon's 1 MiB semi-space, where a proxy under load scavenges
// hundreds of times a second. Each variant runs in its own node process (an observer cannot be removed from
// prom-client's), the same allocation loop across event-loop turns, 3 alternating rounds; prints µs of CPU per GC
// over the `none` baseline. Usage: npx tsx bench/gc-observer.ts [--turns N] [--rounds N]

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchArgs, childMode } from './args.ts';

const USAGE = 'usage: npx tsx bench/gc-observer.ts [--turns N] [--rounds N]';
const VARIANTS = ['none', 'prom-client', 'cmesh'] as const;
type Variant = (typeof VARIANTS)[number] | 'count';

/** Child: install one observer, allocate short-lived objects over `turns` event-loop turns, print CPU ms and GCs. */
async function child(variant: Variant, turns: number): Promise<void> {
  const { default: client } = await import('prom-client');
  const registry = new client.Registry();
  if (variant === 'prom-client') client.collectDefaultMetrics({ register: registry });
  if (variant === 'cmesh') (await import('../daemon/metrics-defaults.ts')).registerDefaultMetrics(registry, '');
  const { PerformanceObserver } = await import('node:perf_hooks');
  let gcs = 0;
  // Counting GCs needs an observer too, so only `count` counts: the loop is deterministic, and so is its GC count.
  const counter = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  if (variant === 'count') counter.observe({ entryTypes: ['gc'] });
  const t0 = process.cpuUsage();
  let keep: unknown[] = [];
  for (let turn = 0; turn < turns; turn++) {
    for (let i = 0; i < 2000; i++) {
      keep.push({ a: i, b: `x${i}`, c: [i, i] });
      if (keep.length > 100) keep = [];
    }
    await new Promise((r) => setImmediate(r));
  }
  const t = process.cpuUsage(t0);
  await new Promise((r) => setTimeout(r, 20));
  console.log(JSON.stringify({ cpuMs: (t.user + t.system) / 1000, gcs }));
}

function run(variant: Variant, turns: number): { cpuMs: number; gcs: number } {
  const r = spawnSync(process.execPath, ['--max-semi-space-size=1', '--import', 'tsx', fileURLToPath(import.meta.url), '--child', variant, String(turns)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${variant}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { cpuMs: number; gcs: number };
}

const childRun = childMode(['--child'] as const);
if (childRun) await child(childRun.args[0] as Variant, Number(childRun.args[1]));
else {
  const flags = benchArgs(USAGE, { turns: { type: 'number' }, rounds: { type: 'number' } });
  const turns = flags.turns ?? 10_000;
  const gcs = run('count', turns).gcs;
  const rounds = flags.rounds ?? 5;
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? VARIANTS : [...VARIANTS].reverse();
    const got = Object.fromEntries(order.map((v) => [v, run(v, turns)])) as Record<Variant, { cpuMs: number; gcs: number }>;
    const perGc = (v: Variant): string => (((got[v].cpuMs - got.none.cpuMs) * 1000) / gcs).toFixed(1);
    const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
    console.log(
      `round ${round} (load ${load}): CPU ms none ${got.none.cpuMs.toFixed(0)} (${gcs} GCs), prom-client ${got['prom-client'].cpuMs.toFixed(0)}, cmesh ${got.cmesh.cpuMs.toFixed(0)}; µs per GC over none: prom-client ${perGc('prom-client')}, cmesh ${perGc('cmesh')}`,
    );
  }
}
