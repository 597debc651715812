// CPU a project's containers have used so far, read from the host: each container's cgroup (its processes and every
// exec run in it: healthchecks, start probes) and its containerd shim (with the runc runs it reaped: create, start,
// each exec). For benches that split an `up`'s CPU between the engine, cmesh and the containers themselves. Linux only.

import { readdir, readFile } from 'node:fs/promises';

/** ms of CPU of the container's cgroup (cgroup v1 cpuacct, or v2 cpu.stat); undefined when neither is readable. */
async function cgroupMs(id: string): Promise<number | undefined> {
  const v1 = await readFile(`/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`, 'utf8').catch(() => undefined);
  if (v1 !== undefined) return Number(v1) / 1e6;
  const v2 = await readFile(`/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`, 'utf8').catch(() => undefined);
  const usec = v2 && /^usage_usec (\d+)/m.exec(v2)?.[1];
  return usec ? Number(usec) / 1e3 : undefined;
}

/** ms of CPU (own and reaped children) of every containerd shim whose command line names one of `ids`. */
async function shimsMs(ids: readonly string[]): Promise<number> {
  let total = 0;
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!cmd.includes('containerd-shim') || !ids.some((id) => cmd.includes(id))) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total += [11, 12, 13, 14].reduce((sum, i) => sum + Number(f[i] ?? 0), 0) * 10;
  }
  return total;
}

export interface ContainersCpu {
  /** Sum over the containers' cgroups, ms. */
  containersMs: number;
  /** The part of containersMs of the containers `pick` chose (e.g. the east-west gateway). */
  pickedMs: number;
  /** Their shims and the runc runs the shims reaped, ms. */
  shimsMs: number;
}

/** CPU so far of the containers `ids` (full ids); `picked` a subset to report apart. */
export async function containersCpu(ids: readonly string[], picked: ReadonlySet<string> = new Set()): Promise<ContainersCpu> {
  let containersMs = 0;
  let pickedMs = 0;
  for (const id of ids) {
    const ms = (await cgroupMs(id)) ?? 0;
    containersMs += ms;
    if (picked.has(id)) pickedMs += ms;
  }
  return { containersMs: Math.round(containersMs), pickedMs: Math.round(pickedMs), shimsMs: await shimsMs(ids) };
}
