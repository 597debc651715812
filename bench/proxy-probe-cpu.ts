// CPU a health probe costs the daemon (mesh/health/probe.ts's probeOnce), a checkout against another: one HTTP probe a
// replica a second is the control plane's steady work (bench/RESULTS.md, ctlplane). Sequential probes against a node
// http server in a child process (so this process's CPU is the prober's alone), after a warm-up.
// Usage: npx tsx bench/proxy-probe-cpu.ts CHECKOUT [--probes N]

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadavg } from 'node:os';
import type * as Probe from '../mesh/health/probe.ts';
import { benchArgs } from './args.ts';

const opts = benchArgs('usage: npx tsx bench/proxy-probe-cpu.ts CHECKOUT [--probes N]', { probes: { type: 'number' } }, { positionals: 1 });
const { probeOnce } = (await import(pathToFileURL(join(opts.positionals[0]!, 'mesh/health/probe.ts')).href)) as typeof Probe;
const server = spawn(process.execPath, ['-e', "require('http').createServer((q,s)=>s.writeHead(200).end('ok')).listen(0,'127.0.0.1',function(){console.log(this.address().port)})"], { stdio: ['ignore', 'pipe', 'inherit'] });
try {
  const port = await new Promise<number>((resolve) => server.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  const probe = async (): Promise<void> => {
    const r = await probeOnce({ host: '127.0.0.1', port, path: '/healthz', timeoutMs: 2000 });
    if (!r.ok) throw new Error(`probe failed: ${r.reason}`);
  };
  for (let i = 0; i < 500; i++) await probe();
  const n = opts.probes ?? 3000;
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await probe();
  const c = process.cpuUsage(c0);
  console.log(`${opts.positionals[0]}: ${((c.user + c.system) / n).toFixed(1)} µs CPU a probe (user ${(c.user / n).toFixed(1)}, sys ${(c.system / n).toFixed(1)}), ${n} probes, load ${loadavg()[0]!.toFixed(2)}`);
} finally {
  server.kill();
}
