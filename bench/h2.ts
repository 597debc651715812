// HTTP/2 over TLS through cmesh's proxy beside nginx (`listen … ssl http2`) with the same certificate (issue #18):
// req/s and proxy CPU per request, both one process in front of the same 2 echo replicas (HTTP/1.1 keep-alive
// upstreams). The load is bench/h2-load.ts (4 sessions × 32 concurrent streams, in its own process). Rounds alternate
// the order; the report is the median ratio, with the load average beside each row.
// --base DIR: also the proxy of another checkout (DIR's bench/tls.ts --serve-tls child, e.g. main), in the same
// rounds: before/after a change as CPU per request of head over base, each round's pair under the same load.
// Run: `npx tsx bench/h2.ts [--rounds 3] [--seconds 5] [--base DIR] [--json]`. Needs nginx with http_v2.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_V8_FLAGS } from '../cli/daemon-bundle.ts';
import type { EchoProcess } from '../mesh/proxy/testing.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { benchArgs } from './args.ts';
import { measureH2 } from './h2-load.ts';
import { median } from './median.ts';
import { loadAverage } from './proxy-product.ts';
import { waitPort } from './proxy-load.ts';
import { have } from './proxy-peers.ts';
import { type Sample, log, nginxTlsConf, stopTlsBench, tlsBenchFixture } from './tls-fixture.ts';

const USAGE = 'usage: npx tsx bench/h2.ts [--rounds 3] [--seconds 5] [--base DIR] [--json]';

/** bench/tls.ts's --serve-tls child of the checkout at `root` (cmesh's proxy behind TlsServing, ALPN h2). */
async function startCmesh(root: string, port: number, dir: string, upstreams: number[]): Promise<ChildProcess> {
  const script = join(root, 'bench', 'tls.ts');
  const child = spawn(process.execPath, [...DAEMON_V8_FLAGS, '--import', 'tsx', script, '--serve-tls', String(port), dir, ...upstreams.map(String)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`cmesh (${root}) exited with ${code}`)));
  });
  return child;
}

async function main(): Promise<void> {
  const opts = benchArgs(USAGE, { rounds: { type: 'number' }, seconds: { type: 'number' }, base: { type: 'string' }, json: { type: 'boolean' } });
  const rounds = opts.rounds ?? 3;
  const seconds = opts.seconds ?? 5;
  if (!have('nginx')) throw new Error('bench/h2.ts needs nginx: run scripts/install-bench-peers.sh');
  const dir = mkdtempSync(join(tmpdir(), 'cmesh-bench-h2-'));
  const children: ChildProcess[] = [];
  const echoes: EchoProcess[] = [];
  try {
    const upstreams = await tlsBenchFixture(dir, echoes);
    const paths: { name: string; pid: number; port: number }[] = [];
    const roots = [{ name: 'cmesh', root: fileURLToPath(new URL('..', import.meta.url)) }, ...(opts.base === undefined ? [] : [{ name: 'base', root: opts.base }])];
    for (const { name, root } of roots) {
      const port = await freePort();
      const child = await startCmesh(root, port, dir, upstreams);
      children.push(child);
      paths.push({ name, pid: child.pid!, port });
    }
    const nginxPort = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), nginxTlsConf(dir, nginxPort, upstreams, true));
    const nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
    children.push(nginx);
    await waitPort(nginxPort);
    paths.push({ name: 'nginx', pid: nginx.pid!, port: nginxPort });
    const ca = join(dir, 'ca.crt');
    for (const p of paths) measureH2(p.pid, p.port, 2, ca);
    const ratios: Record<string, number[]> = { rps: [], cpu: [], baseRps: [], baseCpu: [], headOverBaseCpu: [] };
    const rows: string[] = [];
    for (let r = 0; r < rounds; r++) {
      const got: Record<string, Sample> = {};
      for (const p of r % 2 === 0 ? paths : [...paths].reverse()) got[p.name] = measureH2(p.pid, p.port, seconds, ca);
      const c = got['cmesh']!;
      const n = got['nginx']!;
      const b = got['base'];
      ratios['rps']!.push(c.rps / n.rps);
      ratios['cpu']!.push(c.cpuUsPerReq / n.cpuUsPerReq);
      if (b !== undefined) {
        ratios['baseRps']!.push(b.rps / n.rps);
        ratios['baseCpu']!.push(b.cpuUsPerReq / n.cpuUsPerReq);
        ratios['headOverBaseCpu']!.push(c.cpuUsPerReq / b.cpuUsPerReq);
      }
      const text = (s: Sample): string => `${s.rps.toFixed(0)}/s ${s.cpuUsPerReq.toFixed(0)} µs CPU/req (${s.errors} errors)`;
      const line = `round ${r + 1} h2: cmesh ${text(c)}${b === undefined ? '' : `, base ${text(b)}`}, nginx ${text(n)}, load ${loadAverage()}`;
      rows.push(line);
      log(line);
    }
    const m = (k: string): number => median(ratios[k]!);
    const summary = { rounds, seconds, rpsRatio: m('rps'), cpuRatio: m('cpu'), ...(opts.base === undefined ? {} : { baseRpsRatio: m('baseRps'), baseCpuRatio: m('baseCpu'), headOverBaseCpu: m('headOverBaseCpu') }), load: loadAverage(), rows };
    if (opts.json === true) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      log(`median cmesh/nginx over h2: req/s ${summary.rpsRatio.toFixed(2)}x, CPU/req ${summary.cpuRatio.toFixed(2)}x`);
      if (opts.base !== undefined) log(`median base/nginx: req/s ${m('baseRps').toFixed(2)}x, CPU/req ${m('baseCpu').toFixed(2)}x; CPU/req cmesh/base ${m('headOverBaseCpu').toFixed(2)}x`);
    }
  } finally {
    await stopTlsBench(dir, children, echoes);
  }
}

await main();
