// What a running gateway can take without a new container: joining a network the project added (with its services'
// aliases there) and leaving one the project dropped. The engine fixes an endpoint's aliases when it connects, so a
// name change on a network the gateway is already on still needs a new container (plan-gateway.ts says which).

import { createHash } from 'node:crypto';
import type { ContainerCreateSpec, ContainerInfo, EndpointSpec } from '../api/engine.ts';
import { GATEWAY_SERVICES_LABEL } from '../api/east-west-placement.ts';
import { Labels } from '../api/labels.ts';
import type { ProjectSpec } from '../api/project.ts';
import { stableStringify } from './hash.ts';

/** The label naming what a gateway must share with the current image to be kept (GatewayContext.identity). */
export const GATEWAY_IDENTITY_LABEL = 'dev.cmesh.gateway-identity';
/**
 * How the identity of an image whose entry is the frozen init (mesh/gateway/init.ts) starts: a gateway with another
 * identity was made by a cmesh whose supervisor was fixed in the image, and takes this one's stop-first, once.
 */
export const INIT_IDENTITY_PREFIX = 'init:';
/**
 * How the identity of a host-node image starts once its workers run on a delivered runtime directory (the host's node,
 * loader and libraries): it leaves the image's libraries out. A gateway with a plain `init:` identity was made when the
 * libraries were part of it: taken stop-first, once.
 */
export const RUNTIME_IDENTITY_PREFIX = 'init:rt:';

/** Which hash: this cmesh's (v4), or one an older cmesh wrote: v3 (covered the image), v2 (also the network names). */
export type GatewayHashVersion = { v: 4 } | { v: 3 } | { v: 2; networks: string[] };

/**
 * The hash of a gateway's spec without its networks (those change live), without the labels made from it, and (v4)
 * without its image: the identity label stands for it, so a new host node alone keeps the container.
 */
export function gatewayHash(spec: ContainerCreateSpec, version: GatewayHashVersion = { v: 4 }): string {
  const { networks: _live, labels: all, image, ...rest } = spec;
  const { [Labels.specHash]: _hash, [GATEWAY_SERVICES_LABEL]: _services, [GATEWAY_IDENTITY_LABEL]: identity, ...labels } = all;
  const base = { ...rest, labels };
  const input =
    version.v === 4
      ? { v: 4, gateway: { ...base, labels: { ...labels, [GATEWAY_IDENTITY_LABEL]: identity } } }
      : version.v === 3
        ? { v: 3, gateway: { ...base, image } }
        : { v: 2, gateway: { ...base, image, networks: version.networks } };
  return createHash('sha256').update(stableStringify(input)).digest('hex');
}

export interface LiveChange {
  connect: EndpointSpec[];
  disconnect: string[];
}

/** Networks to join (with the wanted aliases) and to leave; empty lists when the gateway is on the wanted ones. */
export function networkDiff(have: ContainerInfo, want: ContainerCreateSpec): LiveChange {
  const on = new Set((have.networks ?? want.networks).map((n) => n.name));
  const wanted = new Set(want.networks.map((n) => n.name));
  return {
    connect: want.networks.filter((n) => !on.has(n.name)),
    disconnect: [...on].filter((name) => !wanted.has(name)).sort(),
  };
}

/** Every name a service of the project answers to: its own, and each compose alias on any network. */
function namesOwners(project: ProjectSpec): Map<string, string> {
  const owners = new Map<string, string>();
  for (const s of Object.values(project.services)) {
    owners.set(s.name, s.name);
    for (const { aliases } of Object.values(s.networks)) for (const a of aliases) if (!owners.has(a)) owners.set(a, s.name);
  }
  return owners;
}

/**
 * Services whose names the gateway carries wrongly on a network it stays on, read from the engine's endpoints
 * (inspect): a wanted name it lacks, or one it still carries that a service of the project now answers to elsewhere.
 * A name nobody in the project has any more is left (nobody calls it). undefined when the aliases are not known.
 */
export function renamedOnNetworks(project: ProjectSpec, have: ContainerInfo, want: ContainerCreateSpec): string[] | undefined {
  if (have.networks === undefined) return undefined;
  const owners = namesOwners(project);
  const renamed = new Set<string>();
  for (const n of want.networks) {
    const live = have.networks?.find((h) => h.name === n.name);
    if (!live) continue;
    if (live.aliases === undefined) return undefined;
    const carried = new Set(live.aliases);
    const wanted = new Set(n.aliases ?? []);
    for (const a of wanted) if (!carried.has(a)) renamed.add(owners.get(a) ?? a);
    for (const a of carried) if (!wanted.has(a) && owners.has(a)) renamed.add(owners.get(a)!);
  }
  return [...renamed].sort();
}
