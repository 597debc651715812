// CPU and bytes read of what a cold daemon's first meshed pass computes before any engine call: the gateway image's
// content tag and the gateway runtime's name, both with empty caches in a fresh CMESH_HOME (gateway-wiring.ts). Each
// sample is a fresh process (the daemon's per-process digest memo starts empty), rounds interleave the trees given, so
// a before/after pair bends the same under other people's load. No engine: without CMESH_GATEWAY_BASE_IMAGE neither
// step calls it.
// Usage: npx tsx bench/gateway-cold-digest.ts [--rounds N] [--json] [--before <another checkout, e.g. of main>]

import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { benchArgs } from './args.ts';
import { median } from './median.ts';

const USAGE = 'usage: npx tsx bench/gateway-cold-digest.ts [--rounds N] [--json] [--before <tree>]';
const opts = benchArgs(USAGE, { rounds: { type: 'number' }, json: { type: 'boolean' }, before: { type: 'string' } });
const ROUNDS = Math.min(20, opts.rounds || 5);
const here = new URL('..', import.meta.url).pathname;
const trees = (opts.before ? [opts.before, here] : [here]).map((t) => resolve(t));

/** One cold computation in a fresh process: CPU seconds (user+sys) and bytes read (/proc/self/io rchar). */
function sampleScript(tree: string, home: string): string {
  const url = (p: string): string => JSON.stringify(new URL(`file://${join(tree, p)}`).href);
  return `
    const { readFileSync } = await import('node:fs');
    const { gatewayImageInputs } = await import(${url('daemon/gateway-image.ts')});
    const { hostRuntime } = await import(${url('daemon/gateway-runtime.ts')});
    const rchar = () => Number(/rchar: (\\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))[1]);
    const engine = { inspectImage: async () => { throw new Error('no engine call expected'); } };
    const r0 = rchar(), c0 = process.cpuUsage();
    const image = await gatewayImageInputs({ engine, env: process.env, tagCache: ${JSON.stringify(join(home, 'gateway-image-tag.json'))} });
    const runtime = await hostRuntime(process.env, ${JSON.stringify(join(home, 'gateway-runtime-tag.json'))});
    const c = process.cpuUsage(c0);
    console.log(JSON.stringify({ cpuS: (c.user + c.system) / 1e6, readMiB: (rchar() - r0) / 2 ** 20, tag: image.tag, runtime: runtime.name }));`;
}

type Sample = { cpuS: number; readMiB: number; tag: string; runtime: string };

async function sample(tree: string): Promise<Sample> {
  const home = await mkdtemp(join(tmpdir(), 'cm-cold-digest-'));
  try {
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', sampleScript(tree, home)], {
      cwd: tree,
      env: { ...env, CMESH_HOME: home },
      timeout: 120_000,
    });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as Sample;
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');
const out = new Map<string, Sample[]>(trees.map((t) => [t, []]));
await Promise.all(trees.map((t) => sample(t))); // warm: the supervisor bundle's cache, the page cache (untimed)
const loadBefore = load();
for (let i = 0; i < ROUNDS; i++) for (const t of i % 2 === 0 ? trees : [...trees].reverse()) out.get(t)!.push(await sample(t));
const rows = trees.map((t) => {
  const s = out.get(t)!;
  return { tree: t, cpuS: median(s.map((x) => x.cpuS)), readMiB: median(s.map((x) => x.readMiB)), samples: s.map((x) => +x.cpuS.toFixed(3)) };
});
const node = (statSync(process.execPath).size / 2 ** 20).toFixed(0);
if (opts.json) console.log(JSON.stringify({ rounds: ROUNDS, load: [loadBefore, load()], rows }));
else {
  console.log(`cold gateway tag + runtime name, ${ROUNDS} interleaved rounds, host node ${node} MiB, load ${loadBefore} → ${load()}`);
  for (const r of rows) console.log(`${r.tree}: CPU median ${r.cpuS.toFixed(3)} s (${r.samples.join(', ')}), read ${r.readMiB.toFixed(0)} MiB`);
}
