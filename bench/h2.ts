// HTTP/2 over TLS through cmesh's proxy beside nginx (`listen … ssl http2`) with the same certificate (issue #18):
// req/s and proxy CPU per request, both one process in front of the same 2 echo replicas (HTTP/1.1 keep-alive
// upstreams). The load is a node http2 client in its own process: 4 sessions × 32 concurrent streams. Rounds
// alternate the order; the report is the median ratio, with the load average beside each row.
// Run: `npx tsx bench/h2.ts [--rounds 3] [--seconds 5] [--json]`. Needs nginx with http_v2 (apt-get install -y nginx).

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_V8_FLAGS } from '../cli/daemon-bundle.ts';
import type { EchoProcess } from '../mesh/proxy/testing.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { waitPort } from './proxy-load.ts';
import { PATH, have, nginxConf } from './proxy-peers.ts';
import { childMode } from './args.ts';
import { type Sample, log, stopTlsBench, tlsBenchArgs, tlsBenchFixture, withCpu } from './tls-fixture.ts';
import { loadAverage, median } from './proxy-product.ts';
const SESSIONS = 4;
const STREAMS = 32;

/** Child mode: `sessions` h2 sessions with `streams` calls in flight each, for `seconds`; prints {requests, errors}. */
async function client(port: number, seconds: number, ca: string): Promise<void> {
  const until = performance.now() + seconds * 1000;
  let requests = 0;
  let errors = 0;
  const connect = (): http2.ClientHttp2Session => {
    const s = http2.connect(`https://localhost:${port}`, { ca });
    s.on('error', () => {});
    return s;
  };
  // A server may end a session after so many requests (GOAWAY): the client reconnects, as a real one would.
  const one = (slot: { s: http2.ClientHttp2Session }): Promise<void> =>
    new Promise((resolve) => {
      if (slot.s.closed || slot.s.destroyed) slot.s = connect();
      const r = slot.s.request({ ':path': PATH });
      r.on('response', (h) => {
        if (h[':status'] !== 200) errors++;
      });
      r.on('data', () => {});
      r.on('end', () => {
        requests++;
        resolve();
      });
      r.on('error', () => {
        errors++;
        resolve();
      });
    });
  const sessions = Array.from({ length: SESSIONS }, () => ({ s: connect() }));
  await Promise.all(
    sessions.flatMap((s) =>
      Array.from({ length: STREAMS }, async () => {
        while (performance.now() < until) await one(s);
      }),
    ),
  );
  for (const slot of sessions) slot.s.close();
  process.stdout.write(`${JSON.stringify({ requests, errors })}\n`);
}

function measure(pid: number, port: number, seconds: number, dir: string): Sample {
  return withCpu(pid, () => {
    const client = ['--import', 'tsx', fileURLToPath(import.meta.url), '--client', String(port), String(seconds), join(dir, 'ca.crt')];
    const out = execFileSync(process.execPath, client, { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
    const { requests, errors } = JSON.parse(out) as { requests: number; errors: number };
    return { requests, rps: requests / seconds, errors };
  });
}

async function main({ rounds, seconds, json }: ReturnType<typeof tlsBenchArgs>): Promise<void> {
  if (!have('nginx')) throw new Error('bench/h2.ts needs nginx: apt-get install -y nginx');
  const dir = mkdtempSync(join(tmpdir(), 'cmesh-bench-h2-'));
  const children: ChildProcess[] = [];
  const echoes: EchoProcess[] = [];
  try {
    const upstreams = await tlsBenchFixture(dir, echoes);
    const [cmeshPort, nginxPort] = [await freePort(), await freePort()];
    // bench/tls.ts's child serves the cmesh proxy behind TlsServing, whose ALPN offers h2.
    const tlsBench = fileURLToPath(new URL('./tls.ts', import.meta.url));
    const cmesh = spawn(process.execPath, [...DAEMON_V8_FLAGS, '--import', 'tsx', tlsBench, '--serve-tls', String(cmeshPort), dir, ...upstreams.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(cmesh);
    await new Promise<void>((resolve, reject) => {
      cmesh.stdout?.once('data', () => resolve());
      cmesh.once('exit', (code) => reject(new Error(`cmesh exited with ${code}`)));
    });
    const conf = nginxConf(dir, nginxPort, upstreams).replace(
      `listen 127.0.0.1:${nginxPort};`,
      `listen 127.0.0.1:${nginxPort} ssl http2; ssl_certificate ${dir}/leaf.crt; ssl_certificate_key ${dir}/leaf.key; ssl_protocols TLSv1.2 TLSv1.3; http2_max_concurrent_streams 128; keepalive_requests 1000000;`,
    );
    writeFileSync(join(dir, 'nginx.conf'), conf);
    const nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
    children.push(nginx);
    await waitPort(nginxPort);
    const paths = [
      { name: 'cmesh', pid: cmesh.pid!, port: cmeshPort },
      { name: 'nginx', pid: nginx.pid!, port: nginxPort },
    ];
    for (const p of paths) measure(p.pid, p.port, 2, dir);
    const rps: number[] = [];
    const cpu: number[] = [];
    const rows: string[] = [];
    for (let r = 0; r < rounds; r++) {
      const got: Record<string, Sample> = {};
      for (const p of r % 2 === 0 ? paths : [...paths].reverse()) got[p.name] = measure(p.pid, p.port, seconds, dir);
      const c = got['cmesh']!;
      const n = got['nginx']!;
      rps.push(c.rps / n.rps);
      cpu.push(c.cpuUsPerReq / n.cpuUsPerReq);
      const line = `round ${r + 1} h2: cmesh ${c.rps.toFixed(0)}/s ${c.cpuUsPerReq.toFixed(0)} µs CPU/req (${c.errors} errors), nginx ${n.rps.toFixed(0)}/s ${n.cpuUsPerReq.toFixed(0)} µs CPU/req (${n.errors} errors), load ${loadAverage()}`;
      rows.push(line);
      log(line);
    }
    const summary = { rounds, seconds, rpsRatio: median(rps), cpuRatio: median(cpu), load: loadAverage(), rows };
    if (json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else log(`median cmesh/nginx over h2: req/s ${summary.rpsRatio.toFixed(2)}x, CPU/req ${summary.cpuRatio.toFixed(2)}x`);
  } finally {
    await stopTlsBench(dir, children, echoes);
  }
}

// Child mode, started by measure() as `h2.ts --client PORT SECONDS CA_FILE`.
const childRun = childMode(['--client'] as const);
if (childRun !== undefined) {
  const { readFileSync } = await import('node:fs');
  await client(Number(childRun.args[0]), Number(childRun.args[1]), readFileSync(childRun.args[2]!, 'utf8'));
} else {
  await main(tlsBenchArgs('h2.ts'));
}
