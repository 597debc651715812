// Shared by the gateway's unit tests: an HTTP service of the table with one replica, seeded healthy (routable at
// once, no probe needed).

import type { GatewayService } from '../../daemon/api/gateway-control.ts';

/** `name` on `port` (HTTP), its one replica the container `container`; `extra` overrides fields (names, policy…). */
export function httpService(name: string, port: number, container: string, extra: Partial<GatewayService> = {}): GatewayService {
  return {
    name,
    names: [name],
    ports: [{ port, protocol: 'http' }],
    mesh: {
      lb: 'round-robin',
      protocol: 'http',
      weights: [],
      weight: 1,
      health: { intervalMs: 60_000, timeoutMs: 200, rise: 1, fall: 2, port },
      retries: 0,
      timeouts: { connectMs: 500, requestMs: 2000, idleMs: 60_000 },
      accessLog: false,
      healthExplicit: false,
    },
    desired: 1,
    replicas: [{ id: `${name}#1`, replica: 1, container, state: 'running', draining: false, healthy: true }],
    ...extra,
  };
}
