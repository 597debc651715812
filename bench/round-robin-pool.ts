// The pool of the proxy benchmarks' own proxy children (bench/proxy.ts --serve, bench/proxy-daemon-path.ts): plain
// round-robin over replica ports on 127.0.0.1, no health, so they measure the proxy, not a balancer.

import type { Upstream, UpstreamPool } from '../mesh/upstream-pool.ts';

export function roundRobinPool(service: string, ports: number[]): UpstreamPool {
  const members: Upstream[] = ports.map((port, i) => ({ id: `${service}#${i + 1}`, host: '127.0.0.1', port }));
  let next = 0;
  return {
    service,
    pick: () => members[next++ % members.length],
    onStart: () => undefined,
    onResult: () => undefined,
    snapshot: () => ({ total: members.length, healthy: members.length, draining: 0, panic: false }),
  };
}
