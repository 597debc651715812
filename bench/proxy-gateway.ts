// The east-west gateway's data path on the host, for bench/proxy-ab.ts --gateway: a checkout's mesh/gateway/gateway.ts
// (its pools, default p2c balancer, active health, per-request counts — what the gateway container runs) fed one table
// by hand instead of by the daemon. Replicas listen on 127.0.0.2–4 on one port, as containers on a network do.
// Usage (child): node [v8 flags] --import tsx bench/proxy-gateway.ts CHECKOUT PORT — the gateway listens on
//   127.0.0.1:PORT, the replicas on 127.0.0.2–4:PORT (one container port, as in Docker); prints `ready` once the
//   gateway routes to all 3; SIGTERM exits cleanly (so --cpu-prof is written).
//   --replicas A,B,C (bench/east-west.ts --sidecar: the gateway in a caller container's network namespace) routes to
//   those 3 addresses instead, same port; the gateway still listens on 127.0.0.1 (the caller's loopback there).

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { GatewayTable } from '../daemon/api/gateway-control.ts';
import { MESH_DEFAULTS } from '../daemon/config/x-cmesh.ts';
import type { Gateway } from '../mesh/gateway/gateway.ts';
import { benchArgs } from './args.ts';

/** The replicas' addresses; the gateway's resolver maps container `cN…` to REPLICA_HOSTS[N]. */
export const REPLICA_HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];

/** The table the daemon would send for 3 replicas of `web` on `port` with cmesh's defaults and a /healthz probe. */
export function benchTable(port: number, hosts: string[] = REPLICA_HOSTS): GatewayTable {
  const m = MESH_DEFAULTS;
  return {
    type: 'table',
    version: 1,
    project: 'bench',
    services: [
      {
        name: 'web',
        names: ['web'],
        ports: [{ port, protocol: 'http' }],
        mesh: {
          lb: m.lb,
          protocol: 'http',
          weights: [],
          weight: m.weight,
          health: { ...m.health, port, path: '/healthz' },
          retries: m.retries,
          timeouts: { ...m.timeouts },
          accessLog: false,
          healthExplicit: true,
        },
        desired: 3,
        replicas: hosts.map((_, i) => ({ id: `web#${i + 1}`, replica: i + 1, container: `c${i}`.padEnd(12, '0'), state: 'running' as const, draining: false, healthy: true })),
      },
    ],
  };
}

async function main(): Promise<void> {
  const usage = 'usage (child of bench/proxy-ab.ts --gateway): node [v8 flags] --import tsx bench/proxy-gateway.ts CHECKOUT PORT [--replicas A,B,C]';
  const args = benchArgs(usage, { replicas: { type: 'string' } }, { positionals: 2 });
  const [checkout, port] = args.positionals as [string, string];
  const hosts = args.replicas?.split(',').filter(Boolean) ?? REPLICA_HOSTS;
  // The checkout's own gateway code (base or head of an A/B), driven by this file's table.
  const mod = (await import(pathToFileURL(join(checkout, 'mesh/gateway/gateway.ts')).href)) as { Gateway: typeof Gateway };
  const abort = new AbortController();
  const gateway = new mod.Gateway({ signal: abort.signal, host: '127.0.0.1', resolve: async (c) => hosts[Number(c[1])]! });
  await gateway.apply(benchTable(Number(port), hosts));
  const deadline = Date.now() + 10_000;
  while (gateway.rows()[0]?.ready !== hosts.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (gateway.rows()[0]?.ready !== hosts.length) throw new Error(`the gateway did not see ${hosts.length} ready replicas: ${JSON.stringify(gateway.rows())}`);
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.on(sig, () => {
      abort.abort();
      process.exit(0);
    });
  process.stdout.write('ready\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
