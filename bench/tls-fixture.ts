// What the TLS benches share (bench/tls.ts, bench/h2.ts): a temp dir with an ECDSA P-256 leaf of a fresh local CA for
// localhost (leaf.crt, leaf.key, ca.crt) and 2 node echo replicas on loopback.

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EchoProcess, startEcho } from '../mesh/proxy/testing.ts';
import { benchArgs } from './args.ts';
import { cpuSeconds } from './proxy-peers.ts';

/** Writes the certificate files into `dir` and starts the replicas into `echoes` (the caller stops them). */
export async function tlsBenchFixture(dir: string, echoes: EchoProcess[]): Promise<number[]> {
  const { LocalCa } = await import('../mesh/tls/ca.ts');
  const { ca } = await LocalCa.open(join(dir, 'ca'));
  const leaf = await ca.issue({ commonName: 'localhost', sans: ['localhost', '127.0.0.1', '::1'], lifetimeMs: 86_400_000, usage: 'server' });
  writeFileSync(join(dir, 'leaf.crt'), leaf.cert);
  writeFileSync(join(dir, 'leaf.key'), leaf.key, { mode: 0o600 });
  writeFileSync(join(dir, 'ca.crt'), ca.certPem);
  for (const id of ['echo#1', 'echo#2']) echoes.push(await startEcho(id));
  return echoes.map((e) => e.upstream.port);
}

/** A TLS bench's command line (strict, bench/args.ts): `--rounds N` (default 3), `--seconds N` (default 5), `--json`. */
export function tlsBenchArgs(script: string): { rounds: number; seconds: number; json: boolean } {
  const usage = `usage: npx tsx bench/${script} [--rounds 3] [--seconds 5] [--json]`;
  const opts = benchArgs(usage, { rounds: { type: 'number' }, seconds: { type: 'number' }, json: { type: 'boolean' } });
  return { rounds: opts.rounds ?? 3, seconds: opts.seconds ?? 5, json: opts.json === true };
}
export const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** Stops what a TLS bench started and removes its temp dir. */
export async function stopTlsBench(dir: string, children: ChildProcess[], echoes: EchoProcess[]): Promise<void> {
  for (const c of children) c.kill('SIGTERM');
  for (const e of echoes) await e.stop();
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Runs `bench` with a fresh temp dir holding the certificate and 2 echo replicas (tlsBenchFixture); every child the
 * bench pushes into `children` is stopped afterwards, and the dir removed, even when it throws.
 */
export async function withTlsBench<T>(prefix: string, bench: (b: { dir: string; upstreams: number[]; children: ChildProcess[] }) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const children: ChildProcess[] = [];
  const echoes: EchoProcess[] = [];
  try {
    return await bench({ dir, upstreams: await tlsBenchFixture(dir, echoes), children });
  } finally {
    await stopTlsBench(dir, children, echoes);
  }
}

/** Resolves on a child's first line on stdout (its `ready`); rejects if it exits first or stays silent 30 s. */
export async function waitReady(child: ChildProcess, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start`)), 30_000);
    child.stdout?.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
  });
}

export interface Sample {
  rps: number;
  cpuUsPerReq: number;
  errors: number;
}

/** Runs one load and charges the proxy process's CPU (user + sys) over it to each request. */
export function withCpu(pid: number, load: () => { requests: number; rps: number; errors: number }): Sample {
  const c0 = cpuSeconds(pid);
  const r = load();
  const c1 = cpuSeconds(pid);
  const cpu = c1.user - c0.user + c1.sys - c0.sys;
  return { rps: r.rps, cpuUsPerReq: r.requests > 0 ? (cpu * 1e6) / r.requests : 0, errors: r.errors };
}
