// Where a proxy process's CPU per request goes, read from /proc around a run: user vs kernel time, the main thread vs
// the rest (V8's GC helpers, libuv's pool), and read/write syscalls. Load bends these less than req/s: a gap between
// two proxies in syscalls or helper-thread time per request is theirs, whatever else the host runs.

import { readFileSync } from 'node:fs';

export interface ProcessSample {
  user: number;
  sys: number;
  /** utime+stime of the main thread (tid = pid), seconds. */
  main: number;
  syscr: number;
  syscw: number;
}

const ticks = (stat: string): [number, number] => {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(f[11]) / 100, Number(f[12]) / 100];
};

export function sampleProcess(pid: number): ProcessSample {
  const [user, sys] = ticks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  const [mu, ms] = ticks(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8'));
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`${name}: (\\d+)`).exec(io)?.[1] ?? Number.NaN);
  return { user, sys, main: mu + ms, syscr: field('syscr'), syscw: field('syscw') };
}

/** Per request between two samples: µs of user, kernel, main thread, other threads; syscalls read and write. */
export interface ProcessSplit {
  userUs: number;
  sysUs: number;
  mainUs: number;
  helpersUs: number;
  reads: number;
  writes: number;
}

export function splitPerRequest(a: ProcessSample, b: ProcessSample, requests: number): ProcessSplit {
  const per = (x: number): number => (requests > 0 ? x / requests : 0);
  const total = b.user - a.user + (b.sys - a.sys);
  return {
    userUs: per((b.user - a.user) * 1e6),
    sysUs: per((b.sys - a.sys) * 1e6),
    mainUs: per((b.main - a.main) * 1e6),
    helpersUs: per((total - (b.main - a.main)) * 1e6),
    reads: per(b.syscr - a.syscr),
    writes: per(b.syscw - a.syscw),
  };
}

/** Each cell's median over rounds, one line: `user 20.1 sys 10.2 µs · main 28.0 helpers 2.3 µs · syscalls r 1.02 w 2.01`. */
export function formatSplit(rounds: ProcessSplit[], median: (xs: number[]) => number): string {
  const m = (k: keyof ProcessSplit): number => median(rounds.map((r) => r[k]));
  return `user ${m('userUs').toFixed(1)} sys ${m('sysUs').toFixed(1)} µs · main thread ${m('mainUs').toFixed(1)} other threads ${m('helpersUs').toFixed(1)} µs · syscalls/req read ${m('reads').toFixed(2)} write ${m('writes').toFixed(2)}`;
}
