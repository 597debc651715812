// What the TLS benches share (bench/tls.ts, bench/h2.ts, bench/tls-product.ts): a temp dir with an ECDSA P-256 leaf of
// a local CA for localhost (leaf.crt, leaf.key, ca.crt), 2 node echo replicas on loopback, nginx's TLS server block,
// and the wrk load over HTTPS with the proxy process's CPU charged to each request.

import { type ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EchoProcess, startEcho } from '../mesh/proxy/testing.ts';
import { benchArgs } from './args.ts';
import { PATH, type UpstreamAddr, addrOf, cpuSeconds, nginxConf } from './proxy-peers.ts';
import { parseWrk } from './wrk.ts';

/**
 * Writes a localhost leaf of the CA in `caDir` (created if new) into `dir` (leaf.crt, leaf.key, ca.crt); `chain` puts
 * the CA after the leaf in leaf.crt, as cmesh's listeners serve it (nginx then sends the same 2 certificates).
 */
export async function writeLeaf(dir: string, caDir: string, chain = false): Promise<void> {
  const { LocalCa } = await import('../mesh/tls/ca.ts');
  const { ca } = await LocalCa.open(caDir);
  const leaf = await ca.issue({ commonName: 'localhost', sans: ['localhost', '127.0.0.1', '::1'], lifetimeMs: 86_400_000, usage: 'server' });
  writeFileSync(join(dir, 'leaf.crt'), chain ? `${leaf.cert.trimEnd()}\n${ca.certPem}` : leaf.cert);
  writeFileSync(join(dir, 'leaf.key'), leaf.key, { mode: 0o600 });
  writeFileSync(join(dir, 'ca.crt'), ca.certPem);
}

/** Writes the certificate files into `dir` and starts the replicas into `echoes` (the caller stops them). */
export async function tlsBenchFixture(dir: string, echoes: EchoProcess[]): Promise<number[]> {
  await writeLeaf(dir, join(dir, 'ca'));
  for (const id of ['echo#1', 'echo#2']) echoes.push(await startEcho(id));
  return echoes.map((e) => e.upstream.port);
}

/**
 * nginx's own TLS server block on the certificate in `dir`, with the keep-alive upstream of bench/proxy-peers.ts.
 * `max_fails=0`: a failed upstream attempt is retried on the next replica (nginx's default) without marking the replica
 * down for 10 s; under a loaded host its default let all 3 be marked down at once and answer only 502s for a whole
 * round (cmesh never ejects them all: panic mode).
 */
export function nginxTlsConf(dir: string, port: number, upstreams: UpstreamAddr[], http2 = false): string {
  const h2 = http2 ? ' http2' : '';
  const h2Options = http2 ? ' http2_max_concurrent_streams 128; keepalive_requests 1000000;' : '';
  let conf = nginxConf(dir, port, upstreams);
  for (const p of upstreams) conf = conf.replace(`server ${addrOf(p)};`, `server ${addrOf(p)} max_fails=0;`);
  return conf.replace(
    `listen 127.0.0.1:${port};`,
    `listen 127.0.0.1:${port} ssl${h2}; ssl_certificate ${dir}/leaf.crt; ssl_certificate_key ${dir}/leaf.key; ssl_protocols TLSv1.2 TLSv1.3;${h2Options}`,
  );
}

/** wrk -t1 over HTTPS (64 keep-alive connections; `close`: 16, every request a new connection and a full handshake). */
export function measureHttps(pid: number, port: number, seconds: number, close: boolean): Sample {
  return withCpu(pid, () => {
    const headers = close ? ['-H', 'Connection: close'] : [];
    const out = execFileSync('wrk', ['-t1', `-c${close ? 16 : 64}`, `-d${seconds}s`, ...headers, `https://127.0.0.1:${port}${PATH}`], { encoding: 'utf8', timeout: (seconds + 20) * 1000 });
    const { rps, requests, errors } = parseWrk(out);
    return { requests, rps, errors };
  });
}

/**
 * bench/tls.ts's command line (strict, bench/args.ts): `--rounds N` (default 3), `--seconds N` (default 5), `--json`,
 * `--product` (the real daemon on a real project, bench/tls-product.ts).
 */
export function tlsBenchArgs(script: string): { rounds: number; seconds: number; json: boolean; product: boolean } {
  const usage = `usage: npx tsx bench/${script} [--product] [--rounds 3] [--seconds 5] [--json]`;
  const opts = benchArgs(usage, { rounds: { type: 'number' }, seconds: { type: 'number' }, json: { type: 'boolean' }, product: { type: 'boolean' } });
  return { rounds: opts.rounds ?? 3, seconds: opts.seconds ?? 5, json: opts.json === true, product: opts.product === true };
}
export const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** Stops what a TLS bench started and removes its temp dir. */
export async function stopTlsBench(dir: string, children: ChildProcess[], echoes: EchoProcess[]): Promise<void> {
  for (const c of children) c.kill('SIGTERM');
  for (const e of echoes) await e.stop();
  rmSync(dir, { recursive: true, force: true });
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
