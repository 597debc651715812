// The east-west gateways in plan(): one container per project (more when TCP ports collide) that carries the meshed
// services' names as network aliases and runs cmesh's proxy. Pure, like the rest of the planner; the image and socket
// come in through the context.

import { createHash } from 'node:crypto';
import { eastWestPlan, GATEWAY_SERVICE, GATEWAY_SOCKET_DIR, GATEWAY_WORKER_POINTER, gatewayName } from '../api/east-west.ts';
import type { ContainerCreateSpec, ContainerInfo } from '../api/engine.ts';
import { Labels, projectLabels } from '../api/labels.ts';
import type { ProjectSpec } from '../api/project.ts';
import { stableStringify } from './hash.ts';
import type { Action, ContainerRef, GatewayContext } from './plan-types.ts';

export type { GatewayContext } from './plan-types.ts';

/** Seconds the gateway gets to stop; it holds no state, and its callers retry on connect errors. */
const GATEWAY_STOP_SEC = 2;

/** The gateway's index from its engine name (`-cmesh-gateway` is 0, `-cmesh-gateway-3` is 2); undefined for others. */
export function gatewayIndexOf(project: string, name: string): number | undefined {
  const base = gatewayName(project);
  if (name === base) return 0;
  const m = name.startsWith(`${base}-`) ? /^([2-9]|[1-9]\d+)$/.exec(name.slice(base.length + 1)) : null;
  return m ? Number(m[1]) - 1 : undefined;
}

/** The gateway as a ContainerRef: its index is the "replica" (events and plans show `cmesh:gateway#0`, `#1`…). */
export const gatewayRef = (c: ContainerInfo): ContainerRef => ({
  id: c.id,
  name: c.name,
  service: GATEWAY_SERVICE,
  replica: gatewayIndexOf(c.labels[Labels.project] ?? '', c.name) ?? 0,
});

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

/**
 * Gateway `index`'s create spec without its hash label, and the hash over exactly that. Every gateway of a project
 * shares the control socket (each picks its own services from the one table by CMESH_GATEWAY_INDEX).
 */
export function gatewaySpec(project: ProjectSpec, ctx: GatewayContext, index = 0): { spec: ContainerCreateSpec; hash: string } | undefined {
  const meshed = eastWestPlan(project)
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
    labels: { ...projectLabels(project.name), [Labels.role]: 'gateway' },
    ports: [],
    mounts: [{ type: 'bind', source: ctx.socketDir, target: GATEWAY_SOCKET_DIR, readOnly: false }],
    networks: gatewayNetworks(project, meshed),
    stopTimeoutSec: GATEWAY_STOP_SEC,
    init: true,
  };
  const hash = createHash('sha256').update(stableStringify({ v: 1, gateway: spec })).digest('hex');
  return { spec: { ...spec, labels: { ...spec.labels, [Labels.specHash]: hash } }, hash };
}

const isUp = (c: ContainerInfo): boolean => c.state === 'running' || c.state === 'paused' || c.state === 'restarting';

const removal = (c: ContainerInfo, reason: string): Action =>
  isUp(c) ? { kind: 'remove', target: gatewayRef(c), stopTimeoutSec: GATEWAY_STOP_SEC, reason } : { kind: 'remove', target: gatewayRef(c), reason };

/**
 * Converges the gateways: one per group of services that do not collide on a TCP port (eastWestPlan), each created when
 * wanted, recreated when its spec changed (stop-first for now: callers see connection errors for the ~1 s the swap
 * takes), started when stopped, removed when unwanted. `before` runs ahead of the replicas (they drop their aliases
 * once a gateway answers for them); `after` runs once they are done (an unwanted gateway goes only after the replicas
 * took their aliases back).
 */
export function planGateway(
  project: ProjectSpec,
  observed: ContainerInfo[],
  ctx: GatewayContext | undefined,
  notes: string[],
): { before: Action[]; after: Action[] } {
  const actions: Action[] = [];
  const after: Action[] = [];
  const ew = eastWestPlan(project);
  const wanted = project.eastWest === true && ew.services.length > 0;
  if (wanted && !ctx) notes.push('east-west gateway: image not available, gateway left as it is');
  if (wanted && !ctx) return { before: actions, after };
  for (const s of ew.skipped) if (project.eastWest) notes.push(`east-west: ${s.service} not meshed: ${s.reason}`);
  const sorted = [...observed].sort((a, b) => Number(isUp(b)) - Number(isUp(a)) || b.createdAt - a.createdAt || a.id.localeCompare(b.id));
  const count = wanted ? ew.gateways : 0;
  // Containers by the gateway index their name says; a name no wanted gateway has is unwanted.
  const byIndex = new Map<number, ContainerInfo[]>();
  for (const c of sorted) {
    const index = gatewayIndexOf(project.name, c.name);
    if (index === undefined || index >= count) {
      after.push(removal(c, wanted ? 'gateway no longer needed' : 'east-west off'));
      continue;
    }
    byIndex.set(index, [...(byIndex.get(index) ?? []), c]);
  }
  for (let index = 0; index < count; index++) {
    const want = gatewaySpec(project, ctx!, index)!;
    const [keep, ...extras] = byIndex.get(index) ?? [];
    for (const c of extras) actions.push(removal(c, 'duplicate gateway'));
    const base = { specHash: want.hash, spec: want.spec };
    if (!keep) {
      actions.push({ kind: 'create', service: GATEWAY_SERVICE, replica: index, ...base, start: true });
    } else if (keep.labels[Labels.specHash] !== want.hash || keep.state === 'dead') {
      const reason = keep.state === 'dead' ? 'dead' : `spec changed (${(keep.labels[Labels.specHash] ?? 'none').slice(0, 12)})`;
      actions.push({ kind: 'recreate', target: gatewayRef(keep), strategy: 'stop-first', stopTimeoutSec: GATEWAY_STOP_SEC, ...base, reason });
    } else if (keep.state === 'created' || keep.state === 'exited') {
      actions.push({ kind: 'start', target: gatewayRef(keep), reason: `gateway ${keep.state}` });
    } else if (keep.state === 'paused') {
      notes.push(`${keep.name}: paused, left alone`);
    }
  }
  return { before: actions, after };
}
