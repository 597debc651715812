// The daemon's shared gateway in plan() (daemon/gateway-shared.ts): a project's first gateway is not a container of
// its own but the one shared container, joined to the project's networks with the project's names as aliases. Pure:
// only network joins and leaves of a container the project does not own.

import { GATEWAY_SERVICE } from '../api/east-west.ts';
import type { ContainerInfo, EndpointSpec } from '../api/engine.ts';
import type { ProjectSpec } from '../api/project.ts';
import type { Action, ContainerRef } from './plan-types.ts';

export interface SharedGatewayActions {
  /** Joins (and a leave + join where its names on a network changed), ahead of the replicas that already run. */
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

/** The engine names of a project's networks. */
export function projectNetworkNames(project: ProjectSpec): Set<string> {
  return new Set(Object.values(project.networks).map((n) => n.engineName));
}

/** The shared gateway's endpoints on this project's networks (it is on other projects' networks too). */
export function sharedOnProject(networks: ReadonlySet<string>, shared: ContainerInfo | undefined): NonNullable<ContainerInfo['networks']> {
  return (shared?.networks ?? []).filter((n) => networks.has(n.name));
}

const sameNames = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean =>
  a !== undefined && b !== undefined && a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);

/**
 * Joins the networks in `wanted` (with their aliases) the shared gateway is not on, and leaves the project's `networks` it
 * should not be on (all of them with `wanted` empty: east-west off, or nothing meshed). A network where it carries other
 * names is left and joined again: the engine fixes an endpoint's aliases when it joins.
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
    const aliases = [...(w.aliases ?? [])].sort();
    const have = on.get(w.name);
    if (have && (have.aliases === undefined || sameNames(have.aliases, aliases))) continue;
    if (have) {
      // Callers of the old names lose them for the moment between the two; a per-project gateway would be replaced
      // start-first instead (README, East-west: the shared gateway).
      out.before.push({ kind: 'disconnect', target, network: w.name, reason: 'names changed on this network' });
      out.before.push({ kind: 'connect', target, network: w.name, aliases, reason: 'names changed on this network', shared: true });
      continue;
    }
    joins.push({ kind: 'connect', target, network: w.name, aliases, reason: 'joins the project', shared: true });
  }
  const keep = new Set(wanted.map((w) => w.name));
  for (const n of on.keys()) if (!keep.has(n)) out.after.push({ kind: 'disconnect', target, network: n, reason: 'no meshed service of the project here' });
  return out;
}
