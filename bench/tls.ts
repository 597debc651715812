// HTTPS through cmesh's proxy beside nginx with the same certificate (issue #18): keep-alive req/s and new TLS
// handshakes/s (`Connection: close`, one full handshake a request: wrk does not resume sessions), each with CPU per
// request from /proc/<pid>/stat. Both proxies are one process in front of the same 2 echo replicas (node processes),
// with an ECDSA P-256 leaf of the local CA, TLS 1.2+. Rounds alternate the order, the report is the median ratio.
// Run: `npx tsx bench/tls.ts [--rounds 3] [--seconds 5] [--json]`. Needs wrk and nginx (scripts/install-bench-peers.sh).
// `--product`: the same loads and HTTP/2 against the real daemon on a real project instead (bench/tls-product.ts).

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_V8_FLAGS } from '../cli/daemon-bundle.ts';
import type { EchoProcess } from '../mesh/proxy/testing.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { waitPort } from './proxy-load.ts';
import { have } from './proxy-peers.ts';
import { childMode } from './args.ts';
import { startTlsServer } from './tls-handshake-servers.ts';
import { type Sample, log, measureHttps, nginxTlsConf, stopTlsBench, tlsBenchArgs, tlsBenchFixture, waitReady } from './tls-fixture.ts';
import { loadAverage, median } from './proxy-product.ts';

/** Child mode: the cmesh HTTP proxy behind a TlsServing with the certificate in `dir`, then `ready` to the parent. */
async function serveTls(port: number, dir: string, upstreams: number[]): Promise<void> {
  const { createHttpProxy, ProxyListener } = await import('../mesh/proxy/index.ts');
  const { TestPool, testMesh } = await import('../mesh/proxy/testing.ts');
  const { ServedCert } = await import('../mesh/tls/cert-store.ts');
  const { TlsServing } = await import('../mesh/tls/serving.ts');
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  const issued = { cert: read('leaf.crt'), key: read('leaf.key'), notBefore: new Date(), notAfter: new Date(Date.now() + 86_400_000) };
  const cert = new ServedCert('localhost', ['localhost', '127.0.0.1', '::1'], issued, read('ca.crt'));
  const pool = new TestPool('echo', upstreams.map((p, i) => ({ id: `echo#${i + 1}`, host: '127.0.0.1', port: p })));
  const tls = new TlsServing({ service: 'echo', cert, fallback: cert, clientAuth: 'none' });
  const listener = new ProxyListener({ proxy: createHttpProxy({ service: 'echo', pool, mesh: testMesh() }), tls });
  await listener.listen({ host: '127.0.0.1', port });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0));
  process.stdout.write('ready\n');
}

async function main({ rounds, seconds, json }: ReturnType<typeof tlsBenchArgs>): Promise<void> {
  if (!have('wrk') || !have('nginx')) throw new Error('bench/tls.ts needs wrk and nginx: run scripts/install-bench-peers.sh');
  const dir = mkdtempSync(join(tmpdir(), 'cmesh-bench-tls-'));
  const children: ChildProcess[] = [];
  const echoes: EchoProcess[] = [];
  try {
    const upstreams = await tlsBenchFixture(dir, echoes);
    const [cmeshPort, nginxPort] = [await freePort(), await freePort()];
    const child = (mode: string, port: number): ChildProcess =>
      spawn(process.execPath, [...DAEMON_V8_FLAGS, '--import', 'tsx', fileURLToPath(import.meta.url), mode, String(port), dir, ...upstreams.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const cmesh = child('--serve-tls', cmeshPort);
    children.push(cmesh);
    await waitReady(cmesh, 'cmesh');
    // node's bare TLS server, same certificate, a fixed answer and no proxy (bench/tls-handshake-servers.ts): the floor
    // of a handshake on node, so the handshake ratio splits into node's share and cmesh's.
    const floor = await startTlsServer('--floor', dir, 1, [], children);
    const floorPort = floor.port;
    writeFileSync(join(dir, 'nginx.conf'), nginxTlsConf(dir, nginxPort, upstreams));
    const nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
    children.push(nginx);
    await waitPort(nginxPort);
    const paths = [
      { name: 'cmesh', pid: cmesh.pid!, port: cmeshPort },
      { name: 'nginx', pid: nginx.pid!, port: nginxPort },
    ];
    const ratios: Record<'keepalive' | 'handshake', { rps: number[]; cpu: number[] }> = { keepalive: { rps: [], cpu: [] }, handshake: { rps: [], cpu: [] } };
    /** cmesh's CPU a request over node's bare TLS server in the same round: cmesh's own share, least bent by load. */
    const overFloor: Record<'keepalive' | 'handshake', number[]> = { keepalive: [], handshake: [] };
    const rows: string[] = [];
    // Warm-up: JIT, session tables, upstream keep-alive pools.
    for (const p of paths) measureHttps(p.pid, p.port, 2, false);
    for (let r = 0; r < rounds; r++) {
      for (const mode of ['keepalive', 'handshake'] as const) {
        const inMode = [...paths, { name: 'floor', pid: floor.process.pid!, port: floorPort }];
        const order = r % 2 === 0 ? inMode : [...inMode].reverse();
        const got: Record<string, Sample> = {};
        for (const p of order) got[p.name] = measureHttps(p.pid, p.port, seconds, mode === 'handshake');
        const c = got['cmesh']!;
        const n = got['nginx']!;
        const f = got['floor']!;
        ratios[mode].rps.push(c.rps / n.rps);
        ratios[mode].cpu.push(c.cpuUsPerReq / n.cpuUsPerReq);
        overFloor[mode].push(c.cpuUsPerReq / f.cpuUsPerReq);
        const floorText = `, node TLS floor ${f.rps.toFixed(0)}/s ${f.cpuUsPerReq.toFixed(0)} µs CPU/req`;
        const line = `round ${r + 1} ${mode}: cmesh ${c.rps.toFixed(0)}/s ${c.cpuUsPerReq.toFixed(0)} µs CPU/req (${c.errors} errors), nginx ${n.rps.toFixed(0)}/s ${n.cpuUsPerReq.toFixed(0)} µs CPU/req (${n.errors} errors)${floorText}, load ${loadAverage()}`;
        rows.push(line);
        log(line);
      }
    }
    const summary = {
      rounds,
      seconds,
      keepaliveRpsRatio: median(ratios.keepalive.rps),
      handshakeRpsRatio: median(ratios.handshake.rps),
      keepaliveCpuRatio: median(ratios.keepalive.cpu),
      handshakeCpuRatio: median(ratios.handshake.cpu),
      keepaliveCpuOverFloor: median(overFloor.keepalive),
      handshakeCpuOverFloor: median(overFloor.handshake),
      load: loadAverage(),
      rows,
    };
    if (json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      log(`median cmesh/nginx: keep-alive req/s ${summary.keepaliveRpsRatio.toFixed(2)}x (CPU/req ${summary.keepaliveCpuRatio.toFixed(2)}x), new handshakes/s ${summary.handshakeRpsRatio.toFixed(2)}x (CPU/req ${summary.handshakeCpuRatio.toFixed(2)}x); CPU/req cmesh/node floor keep-alive ${summary.keepaliveCpuOverFloor.toFixed(2)}x, handshake ${summary.handshakeCpuOverFloor.toFixed(2)}x`);
    }
  } finally {
    await stopTlsBench(dir, children, echoes);
  }
}

// Child modes, started by main() here and by bench/h2.ts as `tls.ts MODE PORT DIR UPSTREAM…`.
const childRun = childMode(['--serve-tls'] as const);
if (childRun?.mode === '--serve-tls') {
  await serveTls(Number(childRun.args[0]), childRun.args[1]!, childRun.args.slice(2).map(Number));
} else {
  const args = tlsBenchArgs('tls.ts');
  // The product path loads the daemon's test helpers (Docker, the CLI): only when asked for.
  if (args.product) await (await import('./tls-product.ts')).tlsProductBench(args);
  else await main(args);
}
