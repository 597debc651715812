// Which gateway container carries which meshed service's names, given the gateways that already run. Sticky: a
// service already on a gateway stays there, so a change of the meshed set never moves an existing name's address
// (callers cache DNS answers); a newly meshed service goes to a NEW gateway, which only adds aliases. Pure and shared:
// the planner (which gateways to create, keep, remove) and the daemon's gateway table read the same answer.

import { collide, type EastWestPlan, type EastWestService } from './east-west.ts';

/**
 * How many gateway containers a project may accumulate. Each adds one container (~25 MB of node, one address per
 * network); past the bound the placement is packed afresh (first fit, as on a first `up`), and every gateway whose
 * set of services changes is recreated stop-first (callers see about a second of connection errors once).
 */
export const MAX_GATEWAYS = 8;

/** Label on a gateway container: `<service>:<digest>,…`, the services whose names it carries (see serviceDigest). */
export const GATEWAY_SERVICES_LABEL = 'dev.cmesh.gateway-services';

/** A running (or stopped) gateway as the engine shows it: its index and the services its label names. */
export interface ObservedGateway {
  index: number;
  /** service → digest of the names it was given for it (undefined digest: a gateway made before the label existed). */
  services: Map<string, string | undefined>;
}

export interface PlacedGateway {
  index: number;
  /** Meshed services it serves, sorted. */
  services: string[];
  /** Whether a gateway container with this index exists already (kept, or recreated in place when it must change). */
  observed: boolean;
}

export interface Placement {
  /** Wanted gateways by index. */
  gateways: PlacedGateway[];
  /** Observed gateways that serve nothing now (all their services left the mesh): removed once replicas are done. */
  unwanted: number[];
  /** service → gateway index. */
  byService: Map<string, number>;
  /** Past MAX_GATEWAYS: placed afresh, so some gateways change their set of services (and are recreated). */
  repacked: boolean;
}

/** First fit of `services` into groups (each into the first group it collides with nobody in). */
function firstFit(services: EastWestService[]): EastWestService[][] {
  const groups: EastWestService[][] = [];
  for (const s of services) {
    const group = groups.find((members) => members.every((other) => !collide(s.ports, other.ports)));
    if (group) group.push(s);
    else groups.push([s]);
  }
  return groups;
}

/** The first `up`'s placement (eastWestPlan's own first fit); gateways at other indices are unwanted. */
function fresh(plan: EastWestPlan, observed: ObservedGateway[]): Placement {
  const seen = new Set(observed.map((g) => g.index));
  const gateways = Array.from({ length: plan.gateways }, (_, index) => ({
    index,
    services: plan.services.filter((s) => s.gateway === index).map((s) => s.name),
    observed: seen.has(index),
  }));
  const unwanted = [...seen].filter((i) => i >= plan.gateways).sort((a, b) => a - b);
  return { gateways, unwanted, byService: byService(gateways), repacked: observed.length > 0 };
}

function byService(gateways: PlacedGateway[]): Map<string, number> {
  return new Map(gateways.flatMap((g) => g.services.map((s) => [s, g.index] as const)));
}

/**
 * Places the plan's services. Without gateways it is the plain first fit (index 0, 1…). With some, each service an
 * observed gateway names stays on it (unless it now collides with a gateway-mate placed before it), and the rest are
 * packed first-fit into new gateways at indices no existing container uses.
 */
export function placeGateways(plan: EastWestPlan, observed: ObservedGateway[], max = MAX_GATEWAYS): Placement {
  if (observed.length === 0) return fresh(plan, observed);
  const meshed = new Map(plan.services.map((s) => [s.name, s]));
  const assigned = new Set<string>();
  const gateways: PlacedGateway[] = [];
  const unwanted: number[] = [];
  for (const g of [...observed].sort((a, b) => a.index - b.index)) {
    const members: EastWestService[] = [];
    for (const name of [...g.services.keys()].sort()) {
      const s = meshed.get(name);
      if (!s || assigned.has(name) || members.some((m) => collide(m.ports, s.ports))) continue;
      members.push(s);
      assigned.add(name);
    }
    if (members.length === 0) unwanted.push(g.index);
    else gateways.push({ index: g.index, services: members.map((s) => s.name), observed: true });
  }
  const used = new Set(observed.map((g) => g.index));
  let next = 0;
  for (const group of firstFit(plan.services.filter((s) => !assigned.has(s.name)))) {
    while (used.has(next)) next++;
    used.add(next);
    gateways.push({ index: next, services: group.map((s) => s.name).sort(), observed: false });
  }
  if (gateways.length > max) return fresh(plan, observed);
  gateways.sort((a, b) => a.index - b.index);
  return { gateways, unwanted, byService: byService(gateways), repacked: false };
}

/** Parses GATEWAY_SERVICES_LABEL; undefined without it (a gateway made by an older cmesh). */
export function parseGatewayServices(value: string | undefined): Map<string, string | undefined> | undefined {
  if (value === undefined) return undefined;
  const out = new Map<string, string | undefined>();
  for (const entry of value.split(',')) {
    if (entry === '') continue;
    const [name, digest] = entry.split(':');
    out.set(name!, digest);
  }
  return out;
}

export function formatGatewayServices(services: Map<string, string>): string {
  return [...services].sort(([a], [b]) => a.localeCompare(b)).map(([name, digest]) => `${name}:${digest}`).join(',');
}
