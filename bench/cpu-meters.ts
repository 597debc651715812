// CPU meters for benchmarks on a shared host: CPU seconds of host processes and of whole containers (cgroup when the
// host exposes it), read before and after a run so the CPU per request bends less under other people's load.

import { existsSync, readFileSync } from 'node:fs';
import { run } from '../test/helpers/docker.ts';
import { cpuSeconds } from './proxy-peers.ts';

/** utime+stime in seconds of the given host pids (a process that is gone counts 0). */
export function pidsCpuSeconds(pids: number[]): number {
  let seconds = 0;
  for (const pid of pids) {
    try {
      const { user, sys } = cpuSeconds(pid);
      seconds += user + sys;
    } catch {
      // exited between listing and reading
    }
  }
  return seconds;
}

/** Host pids of every process in a container (init and the server), from the engine. */
export async function containerPids(id: string): Promise<number[]> {
  const out = await run(['top', id, '-eo', 'pid']);
  return out.split('\n').slice(1).map(Number).filter((p) => p > 0);
}

/**
 * CPU seconds of a container: its cpuacct cgroup (v1) when the host exposes it — that also counts the processes that
 * exit within the run, like the caller's `docker exec` — else utime+stime of the processes it runs now.
 */
export async function containerCpu(idOrName: string): Promise<() => number> {
  const id = (await run(['inspect', '--format', '{{.Id}}', idOrName])).trim();
  const usage = `/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`;
  if (existsSync(usage)) return () => Number(readFileSync(usage, 'utf8')) / 1e9;
  const pids = await containerPids(id);
  return () => pidsCpuSeconds(pids);
}

/** CPU counters summed: one number for a group of containers or processes. */
export const sum = (meters: (() => number)[]): (() => number) => () => meters.reduce((n, m) => n + m(), 0);
