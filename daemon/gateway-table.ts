// The endpoint table the daemon feeds a project's gateway: the east-west plan (services, ports, protocols) joined with
// the daemon's service table (replicas, containers, drain). Pure, so what the gateway is told is testable.

import type { DesiredProject } from './api/desired.ts';
import { eastWestPlan } from './api/east-west.ts';
import type { FaultSpec } from './api/traffic-policy.ts';
import { GATEWAY_PROTOCOL_VERSION, type GatewayStats, type GatewayTable, gatewayMesh } from './api/gateway-control.ts';
import type { RoutesView } from './api/policy-control.ts';
import type { ServiceTableRow } from './api/service-table.ts';

/** The names callers use for a service: its own and its compose aliases on any network. */
function namesOf(desired: DesiredProject, service: string): string[] {
  const spec = desired.project.services[service]!;
  return [...new Set([service, ...Object.values(spec.networks).flatMap((n) => n.aliases)])];
}

/**
 * The replica's own address on its project network, from a `direct` endpoint (the gateway is on every project network,
 * so it reaches the replica there); none when the engine publishes replicas on loopback instead.
 */
function addressOf(r: ServiceTableRow['replicas'][number]): string | undefined {
  return r.endpoints.find((e) => e.direct)?.host;
}

const withAddress = (address: string | undefined): { address?: string } => (address === undefined ? {} : { address });

/** What the daemon adds to a gateway table beside the desired state and the service rows. */
export interface GatewayTableExtras {
  /** The worker bundle installed in the project's gateway directory. */
  worker?: string;
  /** The run-time faults (`cmesh fault`) in effect, by service: the gateway applies them like the daemon does. */
  faults?: Record<string, FaultSpec>;
  /** Service → gateway index as the running gateways have it (sticky); without it, a first up's. */
  placement?: ReadonlyMap<string, number>;
  /** Gateway containers (short ids) being replaced start-first: they drain (`Connection: close`). */
  drain?: readonly string[];
  /** Of those, the drained ones whose listeners close. */
  retire?: readonly string[];
  /** The daemon's shared gateway serves the first gateway's services, on its addresses on the project's networks. */
  sharedAddresses?: readonly string[];
}

export function gatewayTable(desired: DesiredProject, rows: ServiceTableRow[], extras: GatewayTableExtras = {}): GatewayTable {
  const { worker, faults = {}, placement, drain = [], retire = [], sharedAddresses = [] } = extras;
  const byService = new Map(rows.map((r) => [r.service, r]));
  return {
    type: 'table',
    version: GATEWAY_PROTOCOL_VERSION,
    project: desired.project.name,
    ...(worker === undefined ? {} : { worker }),
    ...(drain.length === 0 ? {} : { drain: [...drain].sort() }),
    ...(retire.length === 0 ? {} : { retire: [...retire].sort() }),
    ...(sharedAddresses.length === 0 ? {} : { shared: { addresses: [...sharedAddresses].sort() } }),
    services: eastWestPlan(desired.project).services.map((s) => {
      const row = byService.get(s.name);
      const policy = desired.project.services[s.name]!.mesh.policy;
      const runtime = faults[s.name];
      return {
        name: s.name,
        names: namesOf(desired, s.name),
        ports: s.ports,
        mesh: gatewayMesh(desired.project.services[s.name]!.mesh, s.probePort),
        desired: row?.desired ?? 0,
        gateway: placement?.get(s.name) ?? s.gateway,
        ...(policy === undefined ? {} : { policy }),
        ...(runtime === undefined ? {} : { faults: runtime }),
        replicas: (row?.replicas ?? []).map((r) => ({
          id: r.id,
          replica: r.replica,
          container: r.container,
          state: r.state,
          draining: r.draining,
          healthy: r.health.active === 'healthy' && r.health.passive === 'ok',
          ...withAddress(addressOf(r)),
        })),
      };
    }),
  };
}

/**
 * What of a table changes from one publish tick to the next, as one string: the run-time faults, the drain lists, and
 * per service row its desired count and per replica the fields the table carries (id, replica, container, state,
 * draining, healthy, address). The rest of a table follows from the desired state, the placement and the worker, which the
 * wiring sees change (gateway-wiring.ts). Equal keys with those unchanged mean equal tables, so a tick whose key is the
 * last one's makes no table and serializes nothing: on an idle daemon that was ~75 % of its main thread's instructions
 * (bench/RESULTS.md, ctlplane).
 */
export function gatewayTableKey(rows: readonly ServiceTableRow[], extras: Pick<GatewayTableExtras, 'faults' | 'drain' | 'retire'> = {}): string {
  const { faults, drain = [], retire = [] } = extras;
  // Tabs and newlines part the fields: none occurs in a service name, replica id, container id or state.
  let key = `${faults === undefined ? '' : JSON.stringify(faults)}\n${drain.join('\t')}\n${retire.join('\t')}`;
  for (const row of rows) {
    key += `\n${row.service}\t${row.desired}`;
    for (const r of row.replicas) {
      const healthy = r.health.active === 'healthy' && r.health.passive === 'ok';
      key += `\t${r.id}\t${r.replica}\t${r.container}\t${r.state}\t${r.draining ? 1 : 0}${healthy ? 1 : 0}\t${addressOf(r) ?? ''}`;
    }
  }
  return key;
}

/**
 * The daemon's service rows with the east-west side joined in: per meshed service its ports and the gateway's ready
 * count, per replica what the gateway measured (requests, latency, health). `cmesh services --json` shows both paths.
 */
export function withEastWest(desired: DesiredProject | undefined, rows: ServiceTableRow[], stats: GatewayStats | undefined): ServiceTableRow[] {
  if (desired?.project.eastWest !== true) return rows;
  const meshed = new Map(eastWestPlan(desired.project).services.map((s) => [s.name, s]));
  const seen = new Map((stats?.services ?? []).map((r) => [r.service, r]));
  return rows.map((row) => {
    const plan = meshed.get(row.service);
    if (!plan) return row;
    const gw = seen.get(row.service);
    const byId = new Map((gw?.replicas ?? []).map((r) => [r.id, r]));
    return {
      ...row,
      eastWest: { ports: plan.ports, ready: gw ? gw.ready : null, reportedAt: stats?.time ?? null },
      replicas: row.replicas.map((r) => {
        const g = byId.get(r.id);
        if (!g) return r;
        const { health, routable, inFlight, latency, requests, errors, errorRate, requestsPerSec } = g;
        return { ...r, eastWest: { health, routable, inFlight, latency, requests, errors, errorRate, requestsPerSec } };
      }),
    };
  });
}

/** `cmesh routes` with the gateways' side joined in (route counters and breakers of calls by name), when they report. */
export function withEastWestRoutes(view: RoutesView, stats: GatewayStats | undefined): RoutesView {
  if (stats?.policy === undefined) return view;
  return { ...view, eastWest: { ports: stats.policy.ports, breakers: stats.policy.breakers, reportedAt: stats.time } };
}
