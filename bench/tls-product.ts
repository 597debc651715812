// The product path of the HTTPS benches (issue #18, "measure what ships"): the real daemon (`node bin/cmesh.js`, its
// own CMESH_HOME) serving a real project — 3 cmesh-fixture/echo:test replicas behind a published port with
// `x-cmesh.tls: true` — beside nginx (`ssl http2`, one worker) in front of the same 3 replica ports with a leaf of the
// daemon's own CA (same key type, names and 2-certificate chain as the daemon serves). Three loads, each path once per
// round, the order reversed every other round: HTTPS keep-alive (wrk -t1 -c64), new TLS handshakes (wrk -c16,
// `Connection: close`) and HTTP/2 (bench/h2-load.ts). The report is the median of each round's cmesh/nginx ratio.
// The floors join the keep-alive and handshake loads in the same rounds: node's bare TLS server and nginx, each one
// process answering a fixed 1 KiB itself (bench/tls-handshake-servers.ts) on the same leaf, so node-floor/nginx-floor
// is what node's TLS stack costs against nginx's with no proxy at all, and cmesh/node-floor what cmesh adds over it.
// CPU per request from /proc/<pid>/stat (the daemon's includes its control plane, health probes and metrics).
// Run: `npx tsx bench/tls.ts --product [--rounds 3] [--seconds 5] [--json]`. Needs Docker, wrk and nginx.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { newCmeshCli, until } from '../test/helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, requireDocker } from '../test/helpers/docker.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { upEchoProduct } from './echo-product.ts';
import { measureH2 } from './h2-load.ts';
import { median } from './median.ts';
import { loadAverage } from './proxy-product.ts';
import { PATH, have } from './proxy-peers.ts';
import { startTlsServer } from './tls-handshake-servers.ts';
import { type Sample, log, measureHttps, nginxTlsConf, writeLeaf } from './tls-fixture.ts';

const MODES = ['keepalive', 'handshake', 'h2'] as const;
type Mode = (typeof MODES)[number];
/** The loads the floors answer (they speak HTTP/1.1 only). */
const FLOOR_MODES: readonly Mode[] = ['keepalive', 'handshake'];

/** Resolves once `port` answers GET over HTTPS with 200 (the CA in `ca` trusted), else undefined. */
function httpsOk(port: number, ca: string): Promise<true | undefined> {
  return new Promise((resolve) => {
    get(`https://localhost:${port}${PATH}`, { ca, agent: false }, (r) => {
      r.resume();
      resolve(r.statusCode === 200 ? true : undefined);
    }).on('error', () => resolve(undefined));
  });
}

export async function tlsProductBench(opts: { rounds: number; seconds: number; json: boolean }): Promise<void> {
  const missing = ['wrk', 'nginx'].filter((c) => !have(c));
  if (missing.length > 0) throw new Error(`bench/tls.ts --product needs ${missing.join(', ')}: run scripts/install-bench-peers.sh`);
  await requireDocker();
  const echo = await buildFixtureImage('echo');
  const runId = newRunId('bench-tls');
  const cli = await newCmeshCli();
  const dir = mkdtempSync(join(tmpdir(), 'cmesh-bench-tls-product-'));
  let nginx: ChildProcess | undefined;
  const floors: ChildProcess[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanUp = (): Promise<void> =>
    (cleaning ??= (async () => {
      nginx?.kill('SIGTERM');
      for (const f of floors) f.kill('SIGTERM');
      await cli.teardown(runId, runId);
      rmSync(dir, { recursive: true, force: true });
    })());
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanUp().finally(() => process.exit(130)));
  const loadAtStart = loadAverage();
  try {
    log(`bench/tls --product: up (project ${runId}, 3 echo replicas, x-cmesh.tls: true)`);
    const { hostPort, ports, daemonPid } = await upEchoProduct(cli, runId, echo, '{ tls: true }');
    // nginx gets a leaf of the daemon's CA (`cmesh ca path` names its certificate; the key sits beside it).
    const caPath = (await cli.ok(['ca', 'path'])).stdout.trim();
    await writeLeaf(dir, dirname(caPath), true);
    const nginxPort = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), nginxTlsConf(dir, nginxPort, ports, true));
    nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
    const paths = [
      { name: 'cmesh', pid: daemonPid, port: hostPort },
      { name: 'nginx', pid: nginx.pid!, port: nginxPort },
    ];
    const [nodeFloor, nginxFloor] = [await startTlsServer('--floor', dir, 1, [], floors), await startTlsServer('nginx', dir, 1, [], floors)];
    const floorPaths = [
      { name: 'node-floor', pid: nodeFloor.process.pid!, port: nodeFloor.port },
      { name: 'nginx-floor', pid: nginxFloor.process.pid!, port: nginxFloor.port },
    ];
    const ca = join(dir, 'ca.crt');
    const caPem = readFileSync(ca, 'utf8');
    for (const p of paths) await until(`${p.name} serving HTTPS`, 20_000, () => httpsOk(p.port, caPem), 200);
    const run = (p: (typeof paths)[number], mode: Mode, seconds: number): Sample =>
      mode === 'h2' ? measureH2(p.pid, p.port, seconds, ca) : measureHttps(p.pid, p.port, seconds, mode === 'handshake');
    log('warm-up: 2 s per path and load (JIT, keep-alive pools, sessions)');
    for (const p of paths) for (const mode of MODES) run(p, mode, 2);
    for (const p of floorPaths) for (const mode of FLOOR_MODES) run(p, mode, 2);
    const ratios: Record<Mode, { rps: number[]; cpu: number[] }> = { keepalive: { rps: [], cpu: [] }, handshake: { rps: [], cpu: [] }, h2: { rps: [], cpu: [] } };
    /** Per floored load: node-floor/nginx-floor req/s and CPU/req, and cmesh's CPU/req over node-floor's. */
    const floorRatios = Object.fromEntries(FLOOR_MODES.map((m) => [m, { rps: [] as number[], cpu: [] as number[], overNode: [] as number[] }]));
    const rows: string[] = [];
    let errors = 0;
    let nginxErrors = 0;
    for (let r = 0; r < opts.rounds; r++) {
      for (const mode of MODES) {
        const got: Record<string, Sample> = {};
        const inMode = mode === 'h2' ? paths : [...paths, ...floorPaths];
        for (const p of r % 2 === 0 ? inMode : [...inMode].reverse()) got[p.name] = run(p, mode, opts.seconds);
        const c = got['cmesh']!;
        const n = got['nginx']!;
        const [nf, gf] = [got['node-floor'], got['nginx-floor']];
        const fr = floorRatios[mode];
        if (nf !== undefined && gf !== undefined && fr !== undefined) {
          errors += nf.errors + gf.errors;
          fr.rps.push(nf.rps / gf.rps);
          fr.cpu.push(nf.cpuUsPerReq / gf.cpuUsPerReq);
          fr.overNode.push(c.cpuUsPerReq / nf.cpuUsPerReq);
        }
        errors += c.errors + n.errors;
        nginxErrors += n.errors;
        ratios[mode].rps.push(c.rps / n.rps);
        ratios[mode].cpu.push(c.cpuUsPerReq / n.cpuUsPerReq);
        const text = (s: Sample): string => `${s.rps.toFixed(0)}/s ${s.cpuUsPerReq.toFixed(0)} µs CPU/req (${s.errors} errors)`;
        const floorText = nf === undefined || gf === undefined ? '' : `; node floor ${text(nf)}, nginx floor ${text(gf)}`;
        const line = `round ${r + 1} ${mode}: cmesh daemon ${text(c)}, nginx ${text(n)}${floorText}, load ${loadAverage()}`;
        rows.push(line);
        log(line);
      }
    }
    const med = (mode: Mode, k: 'rps' | 'cpu'): number => median(ratios[mode][k]);
    const summary = {
      date: new Date().toISOString(),
      rounds: opts.rounds,
      seconds: opts.seconds,
      loadAverage: { atStart: loadAtStart, atEnd: loadAverage() },
      medianRpsRatio: Object.fromEntries(MODES.map((m) => [m, med(m, 'rps')])),
      medianCpuRatio: Object.fromEntries(MODES.map((m) => [m, med(m, 'cpu')])),
      floors: Object.fromEntries(FLOOR_MODES.map((m) => [m, { nodeOverNginxRps: median(floorRatios[m]!.rps), nodeOverNginxCpu: median(floorRatios[m]!.cpu), cmeshOverNodeCpu: median(floorRatios[m]!.overNode) }])),
      errors,
      rows,
    };
    // nginx's reasons leave with the temp dir: its error log's last lines go to stderr while they can be read.
    if (nginxErrors > 0) {
      const lines = readFileSync(join(dir, 'nginx-error.log'), 'utf8').trimEnd().split('\n');
      log(`nginx error log, ${lines.length} lines; the first:\n${lines.slice(0, 8).join('\n')}\nthe last:\n${lines.slice(-3).join('\n')}`);
    }
    if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      for (const m of MODES) log(`median cmesh daemon/nginx ${m}: req/s ${med(m, 'rps').toFixed(2)}x, CPU/req ${med(m, 'cpu').toFixed(2)}x`);
      for (const [m, f] of Object.entries(summary.floors)) {
        log(`median ${m} floors: node/nginx req/s ${f.nodeOverNginxRps.toFixed(2)}x, CPU/req ${f.nodeOverNginxCpu.toFixed(2)}x; cmesh daemon/node floor CPU/req ${f.cmeshOverNodeCpu.toFixed(2)}x`);
      }
    }
  } finally {
    await cleanUp();
  }
}
