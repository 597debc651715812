// The east-west gateways in plan(): containers that carry the meshed services' names as network aliases and run
// cmesh's proxy (more than one when TCP ports collide or services joined later). Pure, like the rest of the planner;
// the image and socket come in through the context.

import { createHash } from 'node:crypto';
import { eastWestPlan, GATEWAY_SERVICE, GATEWAY_SOCKET_DIR, GATEWAY_WORKER_POINTER, gatewayName } from '../api/east-west.ts';
import type { ContainerCreateSpec, ContainerInfo } from '../api/engine.ts';
import { Labels, projectLabels } from '../api/labels.ts';
import {
  formatGatewayServices,
  GATEWAY_SERVICES_LABEL,
  MAX_GATEWAYS,
  type Placement,
  parseGatewayServices,
  placeGateways,
} from '../api/east-west-placement.ts';
import type { ProjectSpec } from '../api/project.ts';
import { stableStringify } from './hash.ts';
import { GATEWAY_IDENTITY_LABEL, gatewayHash, INIT_IDENTITY_PREFIX, type LiveChange, networkDiff, renamedOnNetworks, RUNTIME_IDENTITY_PREFIX } from './plan-gateway-live.ts';
import { GATEWAY_STOP_SEC, gatewayIndexOf, gatewayRef, isUp, pendingIndexOf, removal } from './plan-gateway-refs.ts';
import { failedReplacementKey, promotion, replacement } from './plan-gateway-replace.ts';
import { planSharedGateway, projectNetworkNames, sharedRenamed } from './plan-gateway-shared.ts';
import type { Action, GatewayContext } from './plan-types.ts';

export type { GatewayContext } from './plan-types.ts';

export { gatewayIndexOf, gatewayRef } from './plan-gateway-refs.ts';

/** Network → aliases a gateway carries there: each of its services' name and compose aliases on that network. */
function gatewayNetworks(project: ProjectSpec, meshed: string[]): ContainerCreateSpec['networks'] {
  const byNetwork = new Map<string, Set<string>>();
  for (const key of Object.keys(project.networks)) byNetwork.set(key, new Set());
  for (const name of meshed) {
    const service = project.services[name]!;
    const entries = Object.entries(service.networks);
    const attached = entries.length === 0 && project.networks['default'] ? [['default', { aliases: [] }] as const] : entries;
    for (const [key, { aliases }] of attached) {
      const set = byNetwork.get(key);
      if (!set) continue;
      set.add(name);
      for (const a of aliases) set.add(a);
    }
  }
  return [...byNetwork]
    .filter(([key]) => project.networks[key] !== undefined)
    .map(([key, aliases]) => ({ name: project.networks[key]!.engineName, aliases: [...aliases].sort() }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Short digest of the names a gateway carries for one service (its name and aliases on each network). */
function serviceDigest(project: ProjectSpec, service: string): string {
  const names = gatewayNetworks(project, [service]).filter((n) => n.aliases.length > 0);
  return createHash('sha256').update(stableStringify(names)).digest('hex').slice(0, 12);
}

/**
 * Gateway `index`'s create spec and its hash. The hash covers everything but the networks (joined and left live,
 * plan-gateway-live.ts) and the aliases (named per service in GATEWAY_SERVICES_LABEL with a digest each), so a gateway
 * whose service left the project can be kept as it is.
 * Every gateway of a project shares the control socket (each picks its own services from the one table by
 * CMESH_GATEWAY_INDEX). `services`: the ones placed on it (default: a first `up`'s placement).
 */
export function gatewaySpec(
  project: ProjectSpec,
  ctx: GatewayContext,
  index = 0,
  services?: string[],
): { spec: ContainerCreateSpec; hash: string } | undefined {
  const meshed =
    services ??
    eastWestPlan(project)
      .services.filter((s) => s.gateway === index)
      .map((s) => s.name);
  if (meshed.length === 0) return undefined;
  const spec: ContainerCreateSpec = {
    name: gatewayName(project.name, index),
    image: ctx.image,
    // The supervisor starts the worker bundle the pointer names; a new bundle is swapped in, not a new container.
    env: {
      CMESH_GATEWAY_PROJECT: project.name,
      CMESH_GATEWAY_WORKER: `${GATEWAY_SOCKET_DIR}/${GATEWAY_WORKER_POINTER}`,
      ...(index === 0 ? {} : { CMESH_GATEWAY_INDEX: String(index) }),
    },
    labels: { ...projectLabels(project.name), [Labels.role]: 'gateway', [GATEWAY_IDENTITY_LABEL]: ctx.identity ?? ctx.image },
    ports: [],
    mounts: [{ type: 'bind', source: ctx.socketDir, target: GATEWAY_SOCKET_DIR, readOnly: false }],
    networks: gatewayNetworks(project, meshed),
    stopTimeoutSec: GATEWAY_STOP_SEC,
    init: true,
  };
  const hash = gatewayHash(spec);
  const digests = formatGatewayServices(new Map(meshed.map((name) => [name, serviceDigest(project, name)])));
  return { spec: { ...spec, labels: { ...spec.labels, [Labels.specHash]: hash, [GATEWAY_SERVICES_LABEL]: digests } }, hash };
}

/**
 * Gateway containers by the index their name says (running and newest first); others under -1. With `pending`, the
 * replacements under a temporary name (`<gateway>-next`) by the index they stand in for; without, they count as others.
 */
function byIndexOf(project: ProjectSpec, observed: ContainerInfo[], pending?: Map<number, ContainerInfo[]>): Map<number, ContainerInfo[]> {
  const sorted = [...observed].sort((a, b) => Number(isUp(b)) - Number(isUp(a)) || b.createdAt - a.createdAt || a.id.localeCompare(b.id));
  const out = new Map<number, ContainerInfo[]>();
  for (const c of sorted) {
    const next = pending ? pendingIndexOf(project.name, c.name) : undefined;
    const into = next === undefined ? out : pending!;
    const index = next ?? gatewayIndexOf(project.name, c.name) ?? -1;
    into.set(index, [...(into.get(index) ?? []), c]);
  }
  return out;
}

/** Where the project's meshed services sit, given its gateway containers (the planner and the gateway table agree). */
export function gatewayPlacement(project: ProjectSpec, observed: ContainerInfo[]): Placement {
  const ew = eastWestPlan(project);
  const gateways = [...byIndexOf(project, observed)]
    .filter(([index]) => index >= 0)
    .map(([index, [c]]) => {
      // A gateway made before the label existed carries what a first up placed on its index.
      const legacy = new Map(ew.services.filter((s) => s.gateway === index).map((s) => [s.name, undefined]));
      return { index, services: parseGatewayServices(c!.labels[GATEWAY_SERVICES_LABEL]) ?? legacy };
    });
  return placeGateways(ew, gateways);
}

/**
 * Why a gateway cannot stay as it is, or undefined when it can (with `live`, the networks it joins and leaves in
 * place): same base spec, the same names for each service it serves on the networks it stays on, and any other
 * service it still names is gone from the project (nobody calls a name no service has; a service that is still there,
 * opted out or moved, must not be answered by two containers). Each reason is a change a running container cannot
 * take: its image, or its network aliases (fixed per network endpoint when it connects).
 */
function changeOf(project: ProjectSpec, have: ContainerInfo, want: { spec: ContainerCreateSpec; hash: string }, live: LiveChange): string | undefined {
  const hash = have.labels[Labels.specHash];
  const moves = live.connect.length + live.disconnect.length > 0;
  if (hash !== want.hash) {
    // A gateway without the identity label was made by an older cmesh, whose hash covered the image: kept only on the
    // very image this cmesh wants. One with it is kept on another image of the same identity (only node changed).
    const sameImage = have.image === want.spec.image;
    const identity = have.labels[GATEWAY_IDENTITY_LABEL];
    const wanted = want.spec.labels[GATEWAY_IDENTITY_LABEL] ?? '';
    if (identity !== undefined ? identity !== wanted : !sameImage) {
      // Made before the image's entry was the frozen init: its supervisor is part of its image, once more.
      if (wanted.startsWith(INIT_IDENTITY_PREFIX) && !identity?.startsWith(INIT_IDENTITY_PREFIX)) {
        return `image changed (${have.image} → ${want.spec.image}: made by a cmesh whose supervisor was fixed in the image; recreated once, later supervisors are taken in place)`;
      }
      // Made when the identity covered the image's libraries (its workers ran on them): new host libraries, once more.
      if (wanted.startsWith(RUNTIME_IDENTITY_PREFIX) && !identity?.startsWith(RUNTIME_IDENTITY_PREFIX)) {
        return `image changed (${have.image} → ${want.spec.image}: made when its workers ran on the image's libraries; recreated once, later host libraries are taken in place)`;
      }
      return `image changed (${have.image} → ${want.spec.image}: new init, layout or base image)`;
    }
    const v3 = identity === undefined && hash === gatewayHash(want.spec, { v: 3 });
    // An older cmesh's v2 hash covered the networks too: equal over the ones it is on, only the networks differ, and
    // it cannot say which it joined later, so it takes a network change stop-first once.
    const v2 = identity === undefined && have.networks && hash === gatewayHash(want.spec, { v: 2, networks: have.networks.map((n) => n.name) });
    if (!v3 && !v2) return `spec changed (${(hash ?? 'none').slice(0, 12)}: the socket directory, or cmesh's gateway spec)`;
    if (v2 && moves) return 'networks of the project changed (a gateway made by an older cmesh is replaced for them, once)';
  }
  const had = parseGatewayServices(have.labels[GATEWAY_SERVICES_LABEL]);
  const now = parseGatewayServices(want.spec.labels[GATEWAY_SERVICES_LABEL])!;
  if (!had) return 'made before gateways named their services in a label';
  const moved = [...had.keys()].filter((name) => !now.has(name) && project.services[name] !== undefined);
  const added = [...now.keys()].filter((name) => !had.has(name));
  // The engine's endpoints say which names it carries; without them (an observation without inspect) the digests do.
  const renamed =
    renamedOnNetworks(project, have, want.spec)?.filter((name) => !moved.includes(name) && !added.includes(name)) ??
    [...now].filter(([name, digest]) => had.has(name) && had.get(name) !== digest).map(([name]) => name);
  if (renamed.length > 0) return `names of ${renamed.join(', ')} changed (compose aliases, or the networks it joins)`;
  if (added.length > 0) return `${added.join(', ')} placed on it`;
  if (moved.length > 0) return `${moved.join(', ')} no longer on it (opted out, no known port, or moved to another gateway)`;
  return undefined;
}

function merge(into: GatewayActions, from: Omit<GatewayActions, 'afterByName'>): void {
  into.before.push(...from.before);
  into.concurrent.push(...from.concurrent);
  into.after.push(...from.after);
}

export interface GatewayActions {
  /** Ahead of the replicas: gateways for services whose replicas exist (they drop their aliases once it answers). */
  before: Action[];
  /** Beside the first replicas: new gateways for services that have no container yet (off the critical path). */
  concurrent: Action[];
  /** Once the replicas are done: gateways that serve nothing any more. */
  after: Action[];
  /** Services whose names must be answered (by the project's own gateway) before `after` runs. */
  afterByName: string[];
}

/**
 * Converges the gateways with sticky placement (east-west-placement.ts): a kept gateway is left alone (started when
 * stopped), a newly meshed service gets a new gateway that only adds aliases, and a gateway whose services all left
 * goes after the replicas. A running gateway that must change (its image, a service's names, a service moved off it) is
 * replaced start-first (plan-gateway-replace.ts); one that is not running is recreated stop-first.
 */
export function planGateway(
  project: ProjectSpec,
  observed: ContainerInfo[],
  ctx: GatewayContext | undefined,
  notes: string[],
  started: ReadonlySet<string> = new Set(),
  failed: Readonly<Record<string, string>> = {},
  shared?: ContainerInfo,
): GatewayActions {
  const out: GatewayActions = { before: [], concurrent: [], after: [], afterByName: [] };
  const ew = eastWestPlan(project);
  const wanted = project.eastWest === true && ew.services.length > 0;
  if (wanted && !ctx) notes.push('east-west gateway: image not available, gateway left as it is');
  if (wanted && !ctx) return out;
  for (const s of ew.skipped) if (project.eastWest) notes.push(`east-west: ${s.service} not meshed: ${s.reason}`);
  const pending = new Map<number, ContainerInfo[]>();
  const byIndex = byIndexOf(project, observed, pending);
  for (const c of byIndex.get(-1) ?? []) out.after.push(removal(c, 'not a gateway name'));
  if (!wanted) {
    for (const [index, cs] of [...byIndex, ...pending]) if (index >= 0) for (const c of cs) out.after.push(removal(c, 'east-west off'));
    // The daemon's shared gateway leaves this project's networks (whatever mode the daemon runs in now).
    if (shared) merge(out, planSharedGateway(projectNetworkNames(project), shared.name, shared, [], false));
    return out;
  }
  const placement = gatewayPlacement(project, observed);
  if (placement.repacked) notes.push(`east-west: over ${MAX_GATEWAYS} gateways: services placed afresh (a gateway that changes is recreated start-first)`);
  const placed = new Set(placement.gateways.map((g) => g.index));
  for (const [index, cs] of pending) if (!placed.has(index)) for (const c of cs) out.after.push(removal(c, 'a replacement of a gateway no longer needed'));
  for (const index of placement.unwanted) for (const c of byIndex.get(index) ?? []) out.after.push(removal(c, 'gateway no longer needed'));
  // The first gateway is the daemon's shared one (ctx.shared) for a project that has no first gateway of its own. One it
  // has is kept (a project made before, or one whose names changed on the shared one: it took them over start-first).
  const first = placement.gateways.find((g) => g.index === 0);
  const networks = projectNetworkNames(project);
  const firstNetworks = first ? gatewayNetworks(project, first.services).filter((n) => (n.aliases ?? []).length > 0) : [];
  const ownFirst = (byIndex.get(0)?.length ?? 0) + (pending.get(0)?.length ?? 0) > 0;
  // Names on an external network: other projects may be on it, the shared gateway with their names too.
  const external = firstNetworks.some((n) => !networks.has(n.name));
  const useShared = ctx!.shared !== undefined && first !== undefined && !ownFirst && !external && !sharedRenamed(networks, shared, firstNetworks);
  if (useShared || shared) {
    const replicasRun = first?.services.some((s) => started.has(s)) ?? false;
    const left = planSharedGateway(networks, ctx!.shared?.name ?? shared!.name, shared, useShared ? firstNetworks : [], replicasRun);
    merge(out, left);
    // Leaving while the project's own first gateway serves those names: not before it answers for them.
    if (!useShared && first && left.after.length > 0) out.afterByName.push(...first.services);
  }
  for (const g of placement.gateways) {
    if (g.index === 0 && useShared) continue;
    const want = gatewaySpec(project, ctx!, g.index, g.services)!;
    const [keep, ...extras] = byIndex.get(g.index) ?? [];
    for (const c of extras) out.before.push(removal(c, 'duplicate gateway'));
    const base = { specHash: want.hash, spec: want.spec };
    if (!keep) {
      const promoted = promotion(pending.get(g.index) ?? [], want.spec.name);
      const create: Action = { kind: 'create', service: GATEWAY_SERVICE, replica: g.index, ...base, start: true };
      (promoted ? out.before : g.services.some((s) => started.has(s)) ? out.before : out.concurrent).push(...(promoted ?? [create]));
      continue;
    }
    const live = networkDiff(keep, want.spec);
    const change = keep.state === 'dead' ? 'dead' : changeOf(project, keep, want, live);
    const slot = { index: g.index, keep, pending: pending.get(g.index) ?? [], want, change, failedHash: failed[failedReplacementKey(g.index)] };
    out.before.push(...replacement(slot, notes));
    if (change !== undefined) continue;
    const target = gatewayRef(keep);
    for (const n of live.connect) out.before.push({ kind: 'connect', target, network: n.name, aliases: n.aliases ?? [], reason: 'network added' });
    // Left once the replicas are done: until they roll off it, the gateway may reach them by their address there.
    for (const network of live.disconnect) out.after.push({ kind: 'disconnect', target, network, reason: 'network left the project' });
    if (keep.state === 'created' || keep.state === 'exited') {
      out.before.push({ kind: 'start', target: gatewayRef(keep), reason: `gateway ${keep.state}` });
    } else if (keep.state === 'paused') {
      notes.push(`${keep.name}: paused, left alone`);
    }
  }
  return out;
}
