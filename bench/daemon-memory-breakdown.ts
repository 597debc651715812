// bench/daemon-memory.ts --breakdown: where the daemon's VmRSS goes, from outside (/proc/<pid>/smaps: the node binary's
// file pages, glibc's main `[heap]`, other files, anonymous memory — V8's heap, thread arenas and stacks) and from
// inside (bench/daemon-memory-probe.cjs, preloaded into the daemon: V8's heap per space, external and array buffers,
// bytecode and code). Native = RSS − V8's physical heap − external.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DAEMON_V8_FLAGS } from '../cli/daemon-bundle.ts';
import { ROOT } from '../test/helpers/docker.ts';

/** The daemon's flags with the probe preloaded (CMESH_DAEMON_V8_FLAGS, or the product's when unset). */
export function probeEnv(env: NodeJS.ProcessEnv, out: string): NodeJS.ProcessEnv {
  const flags = env['CMESH_DAEMON_V8_FLAGS'] ?? DAEMON_V8_FLAGS.join(' ');
  return { CMESH_DAEMON_V8_FLAGS: `${flags} --require ${join(ROOT, 'bench', 'daemon-memory-probe.cjs')}`, CMESH_MEMPROBE_OUT: out };
}

export interface Breakdown {
  rssMb: number;
  smaps: { nodeBinary: number; mallocHeap: number; otherFiles: number; anonymous: number };
  v8?: Record<string, unknown>;
  nativeMb?: number;
}

const round = (kb: number): number => Math.round(kb / 102.4) / 10;

const probeLines = async (file: string): Promise<string[]> => (await readFile(file, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);

/** Asks the probe for a line (SIGUSR2) and waits for it, up to 2 s; a daemon without the probe just gives none. */
async function askProbe(pid: number, file: string): Promise<void> {
  const before = (await probeLines(file)).length;
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 40 && (await probeLines(file)).length === before; i++) await new Promise((r) => setTimeout(r, 50));
}

/** The daemon's RSS by mapping kind, and its probe's line for now (probeEnv's daemons only: another dies of SIGUSR2). */
export async function breakdown(pid: number, probeFile: string): Promise<Breakdown> {
  await askProbe(pid, probeFile);
  const smaps = await readFile(`/proc/${pid}/smaps`, 'utf8');
  const kb = { nodeBinary: 0, mallocHeap: 0, otherFiles: 0, anonymous: 0 };
  let name = '';
  for (const line of smaps.split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) {
      name = mapping[1] ?? '';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (!rss) continue;
    const n = Number(rss[1]);
    if (/\/node$/.test(name)) kb.nodeBinary += n;
    else if (name === '[heap]') kb.mallocHeap += n;
    else if (name.startsWith('/')) kb.otherFiles += n;
    else kb.anonymous += n;
  }
  const total = kb.nodeBinary + kb.mallocHeap + kb.otherFiles + kb.anonymous;
  const lines = await probeLines(probeFile);
  const v8 = lines.length > 0 ? (JSON.parse(lines.at(-1)!) as Record<string, number>) : undefined;
  const smapsMb = { nodeBinary: round(kb.nodeBinary), mallocHeap: round(kb.mallocHeap), otherFiles: round(kb.otherFiles), anonymous: round(kb.anonymous) };
  if (v8 === undefined) return { rssMb: round(total), smaps: smapsMb };
  const native = Math.round((round(total) - (v8['heapPhysical'] ?? 0) - (v8['external'] ?? 0)) * 10) / 10;
  return { rssMb: round(total), smaps: smapsMb, v8, nativeMb: native };
}
