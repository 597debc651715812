// The daemon's per-request path on the host, for bench/proxy-ab.ts --daemon: a checkout's HTTP proxy wired to that
// checkout's DaemonMetrics as daemon/daemon.ts wires them (onRequest → metrics.request, onAttempt → metrics.attempt,
// prom-client's default metrics on, the GC-duration histogram among them) — what the product path adds to the bare
// proxy of `bench/proxy.ts --serve`, without Docker, a daemon's control plane or its health probes.
// Usage (child): node [v8 flags] --import tsx bench/proxy-daemon-path.ts CHECKOUT PORT UPSTREAM_PORT…
//   listens on 127.0.0.1:PORT over a plain round-robin pool (the bench measures the proxy and its metrics, not a
//   balancer); prints `ready`; SIGTERM exits cleanly (so --cpu-prof is written).
// CMESH_BENCH_POOL=service: the product's pool instead (ServicePool, default balancer and passive health, nobody
//   probing), as the daemon builds one per service. CMESH_BENCH_WITHOUT=metrics,defaults (a comma list) leaves out
//   the per-request metrics or prom-client's default metrics (the GC-duration observer among them): what each costs.

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DaemonMetrics } from '../daemon/metrics.ts';
import type { AccessLogEntry } from '../mesh/proxy/access-log.ts';
import type { ServicePool } from '../mesh/pool.ts';
import type * as ProxyModule from '../mesh/proxy/index.ts';
import type * as Testing from '../mesh/proxy/testing.ts';
import type { UpstreamPool } from '../mesh/upstream-pool.ts';
import { benchArgs } from './args.ts';
import { roundRobinPool } from './round-robin-pool.ts';

const load = async <T>(checkout: string, path: string): Promise<T> => (await import(pathToFileURL(join(checkout, path)).href)) as T;

async function main(): Promise<void> {
  const usage = 'usage (child of bench/proxy-ab.ts --daemon): node [v8 flags] --import tsx bench/proxy-daemon-path.ts CHECKOUT PORT UPSTREAM_PORT…';
  const { positionals } = benchArgs(usage, {}, { positionals: 5 });
  const [checkout, port, ...upstreams] = positionals as [string, string, ...string[]];
  // The checkout's own code (base or head of an A/B).
  const { createHttpProxy, ProxyListener } = await load<typeof ProxyModule>(checkout, 'mesh/proxy/index.ts');
  const { testMesh } = await load<typeof Testing>(checkout, 'mesh/proxy/testing.ts');
  const { DaemonMetrics: Metrics } = await load<{ DaemonMetrics: typeof DaemonMetrics }>(checkout, 'daemon/metrics.ts');
  const without = new Set((process.env['CMESH_BENCH_WITHOUT'] ?? '').split(',').filter(Boolean));
  const metrics = new Metrics({ defaultMetrics: !without.has('defaults') });
  const ports = upstreams.map(Number);
  const pool = process.env['CMESH_BENCH_POOL'] === 'service' ? await servicePool(checkout, ports) : roundRobinPool('web', ports);
  const counted = !without.has('metrics');
  const proxy = createHttpProxy({
    service: 'web',
    pool,
    mesh: testMesh({ timeouts: { connectMs: 5000, requestMs: 30_000, idleMs: 60_000 } }),
    // Without metrics no request hook at all: a hook that ignores its entry would still have one built per request.
    ...(counted ? { onRequest: (entry: AccessLogEntry) => metrics.request('bench', entry) } : {}),
    // A checkout whose metrics count HTTP/1.x requests from plain arguments is wired so, as its daemon.ts does.
    ...(counted && 'count' in metrics
      ? { countRequest: (service: string, upstream: string | undefined, method: string, status: number, durationMs: number, route: string | undefined, target: string | undefined, error: string | undefined) => metrics.count('bench', service, upstream, method, status, durationMs, route, target, error) }
      : {}),
    onAttempt: (stats) => metrics.attempt('bench', stats),
  });
  await new ProxyListener({ proxy }).listen({ host: '127.0.0.1', port: Number(port) });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0));
  process.stdout.write('ready\n');
}

/** The checkout's ServicePool over the replica ports, each replica running with one endpoint on 127.0.0.1. */
async function servicePool(checkout: string, ports: number[]): Promise<UpstreamPool> {
  const { ServicePool: Pool } = await load<{ ServicePool: typeof ServicePool }>(checkout, 'mesh/pool.ts');
  const pool = new Pool({ project: 'bench', service: 'web', activeChecks: false, ports: [{ target: 80, published: 80, protocol: 'tcp' }] });
  for (const [i, hostPort] of ports.entries()) {
    pool.upsert({ replica: i + 1, container: `c${i + 1}`, endpoints: [{ containerPort: 80, protocol: 'tcp', host: '127.0.0.1', hostPort }], state: 'running' });
  }
  return pool;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
