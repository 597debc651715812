// A gateway's report to the daemon (the `stats` line): what a project's own gateway (main.ts) and the shared gateway
// (shared-gateway.ts, one per project it serves) send every second and on every change the daemon waits for.

import { GATEWAY_PROTOCOL_VERSION, type GatewayStats } from '../../daemon/api/gateway-control.ts';
import type { Gateway } from './gateway.ts';

export interface ReportedBy {
  project: string;
  /** The container's hostname (its short id): what the daemon names it by. */
  host: string;
  /** The project's gateway index; 0 (the first, or the shared gateway) is left out. */
  index?: number;
  /** When this worker started: the daemon keeps the newest worker's report per gateway. */
  startedAt: number;
}

export function statsMessage(gateway: Gateway, by: ReportedBy): GatewayStats {
  return {
    type: 'stats',
    version: GATEWAY_PROTOCOL_VERSION,
    project: by.project,
    ...(by.index === undefined || by.index === 0 ? {} : { gateway: by.index }),
    host: by.host,
    ...(gateway.draining ? { draining: true } : {}),
    ...(gateway.retired ? { retired: true } : {}),
    time: Date.now(),
    services: gateway.rows(),
    warnings: gateway.warnings(),
    serving: gateway.serving(),
    startedAt: by.startedAt,
    requests: gateway.requestTotals(),
    policy: gateway.policies.report(),
  };
}
