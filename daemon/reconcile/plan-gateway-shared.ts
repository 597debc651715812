// The daemon's shared gateway in plan() (daemon/gateway-shared.ts): a project's first gateway is not a container of
// its own but the one shared container, joined to the project's networks with the project's names as aliases. Pure:
// only network joins and leaves of a container the project does not own.

import { GATEWAY_SERVICE } from '../api/east-west.ts';
import type { ContainerInfo, EndpointSpec } from '../api/engine.ts';
import type { ProjectSpec } from '../api/project.ts';
import type { Action, ContainerRef } from './plan-types.ts';

export interface SharedGatewayActions {
  /** Joins ahead of the replicas that already run. */
  before: Action[];
  /** Joins for services with no container yet: beside the first replicas. */
  concurrent: Action[];
  /** Leaves of networks it no longer needs to be on for this project, once the replicas are done. */
  after: Action[];
}

/** The shared gateway as the plan's actions name it (cmesh:gateway#0): by id once it exists, else by its name. */
export function sharedRef(name: string, shared: ContainerInfo | undefined): ContainerRef {
  return { id: shared?.id ?? name, name, service: GATEWAY_SERVICE, replica: 0 };
}

/**
 * The engine names of the networks the project made: the only ones the shared gateway joins and leaves for it. An
 * external network may carry other projects' endpoints on it, the shared gateway's among them.
 */
export function projectNetworkNames(project: ProjectSpec): Set<string> {
  return new Set(Object.values(project.networks).filter((n) => !n.external).map((n) => n.engineName));
}

/** The shared gateway's endpoints on this project's networks (it is on other projects' networks too). */
export function sharedOnProject(networks: ReadonlySet<string>, shared: ContainerInfo | undefined): NonNullable<ContainerInfo['networks']> {
  return (shared?.networks ?? []).filter((n) => networks.has(n.name));
}

const sameNames = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean =>
  a !== undefined && b !== undefined && a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);

/**
 * Whether the shared gateway carries other names than `wanted` on a network of the project it is on. The engine fixes
 * an endpoint's aliases when it joins, so only a leave and a join again could change them, and callers of the names
 * would be refused in between: the project's own gateway takes its names over start-first instead (plan-gateway.ts).
 */
export function sharedRenamed(networks: ReadonlySet<string>, shared: ContainerInfo | undefined, wanted: readonly EndpointSpec[]): boolean {
  const on = new Map(sharedOnProject(networks, shared).map((n) => [n.name, n]));
  return wanted.some((w) => {
    const have = on.get(w.name);
    return have?.aliases !== undefined && !sameNames(have.aliases, w.aliases ?? []);
  });
}

/**
 * Joins the networks in `wanted` (with their aliases) the shared gateway is not on, and leaves the project's `networks` it
 * should not be on (all of them with `wanted` empty: east-west off, nothing meshed, or the project's own gateway took
 * its names over). Names changed on a network it is on are the caller's to avoid (sharedRenamed).
 */
export function planSharedGateway(
  networks: ReadonlySet<string>,
  name: string,
  shared: ContainerInfo | undefined,
  wanted: readonly EndpointSpec[],
  replicasRun: boolean,
): SharedGatewayActions {
  const out: SharedGatewayActions = { before: [], concurrent: [], after: [] };
  const target = sharedRef(name, shared);
  const on = new Map(sharedOnProject(networks, shared).map((n) => [n.name, n]));
  const joins = replicasRun ? out.before : out.concurrent;
  for (const w of wanted) {
    if (on.has(w.name)) continue;
    joins.push({ kind: 'connect', target, network: w.name, aliases: [...(w.aliases ?? [])].sort(), reason: 'joins the project', shared: true });
  }
  const keep = new Set(wanted.map((w) => w.name));
  for (const n of on.keys()) if (!keep.has(n)) out.after.push({ kind: 'disconnect', target, network: n, reason: 'no meshed service of the project here' });
  return out;
}
