// The pool layer alone, in instructions: N × (pick, onStart, onResult 'ok') on a checkout's ServicePool (3 replicas,
// the default p2c balancer, passive health and replica stats, no active checks) — what each proxied request costs there.
// Usage (under callgrind; the difference of two N over their difference is the per-request cost, start-up cancels):
//   valgrind --tool=callgrind node --max-semi-space-size=1 --import tsx bench/proxy-pool-instructions.ts CHECKOUT id|up N
// `id`: report attempts by replica id (UpstreamPool before proxycpu5); `up`: by the Upstream the pick handed out.

import { pathToFileURL } from 'node:url';
import type { ServicePool } from '../mesh/pool.ts';
import type { Upstream } from '../mesh/upstream-pool.ts';
import { benchArgs } from './args.ts';

const { positionals } = benchArgs('usage: node --import tsx bench/proxy-pool-instructions.ts CHECKOUT id|up N', {}, { positionals: 3 });
const [checkout, mode, n] = positionals as [string, string, string];
const { ServicePool: Pool } = (await import(pathToFileURL(`${checkout}/mesh/pool.ts`).href)) as { ServicePool: typeof ServicePool };
const pool = new Pool({ project: 'bench', service: 'web', activeChecks: false, ports: [{ target: 80, published: 80, protocol: 'tcp' }] });
for (let i = 1; i <= 3; i++) {
  pool.upsert({ replica: i, container: `c${i}`, endpoints: [{ containerPort: 80, protocol: 'tcp', host: '127.0.0.1', hostPort: 40000 + i }], state: 'running' });
}
// An older checkout's pool takes the id where this one takes the Upstream.
const report = pool as unknown as { onStart(ref: Upstream | string): void; onResult(ref: Upstream | string, ms: number, outcome: 'ok'): void };
let ports = 0;
for (let i = 0; i < Number(n); i++) {
  const up = pool.pick()!;
  const ref = mode === 'id' ? up.id : up;
  report.onStart(ref);
  report.onResult(ref, 1.5, 'ok');
  ports += up.port;
}
console.log(`${n} requests, port sum ${ports}`);
