// CPU a project's containers have used so far, read from the host: each container's CPU (bench/cpu-meters.ts: its
// cgroup, so every exec run in it counts too: healthchecks, start probes) and its containerd shim's, with the runc runs
// the shim reaped (create, start, each exec). For benches that split an `up`'s CPU between the engine, cmesh and the
// containers themselves. Linux only.

import { readdir, readFile } from 'node:fs/promises';
import { containerCpu } from './cpu-meters.ts';

/** CPU ms (user + system, and of reaped children) a process has used so far; 0 when it is gone. */
export async function cpuMs(pid: number | undefined): Promise<number> {
  if (!pid) return 0;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime, cutime, cstime: fields 14–17 of stat, 12–15 after the command's closing parenthesis.
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(f[i] ?? 0), 0) * 10;
}

/** ms of CPU of every containerd shim whose command line names one of `ids`. */
async function shimsMs(ids: readonly string[]): Promise<number> {
  let total = 0;
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes('containerd-shim') && ids.some((id) => cmd.includes(id))) total += await cpuMs(Number(pid));
  }
  return total;
}

export interface ContainersCpu {
  /** Sum over the containers, ms. */
  containersMs: number;
  /** The part of containersMs of the containers `picked` names (e.g. the east-west gateway). */
  pickedMs: number;
  /** Their shims and the runc runs the shims reaped, ms. */
  shimsMs: number;
}

/** CPU so far of the containers `ids` (full ids); `picked` a subset to report apart. */
export async function containersCpu(ids: readonly string[], picked: ReadonlySet<string> = new Set()): Promise<ContainersCpu> {
  let containersMs = 0;
  let pickedMs = 0;
  for (const id of ids) {
    const ms = (await containerCpu(id))() * 1000;
    containersMs += ms;
    if (picked.has(id)) pickedMs += ms;
  }
  return { containersMs: Math.round(containersMs), pickedMs: Math.round(pickedMs), shimsMs: await shimsMs(ids) };
}
