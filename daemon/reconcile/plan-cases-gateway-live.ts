// Golden cases of a gateway's live network changes: a network the project adds is joined by the running gateway with
// its services' aliases there, one it drops is left; a gateway an older cmesh made (its hash covered the networks)
// stays as it is across the upgrade and takes a network change stop-first, once.

import type { DesiredProject } from '../api/desired.ts';
import type { ContainerInfo } from '../api/engine.ts';
import { Labels } from '../api/labels.ts';
import type { ProjectSpec } from '../api/project.ts';
import type { PlanCase } from './plan-case.ts';
import { type GatewayContext, gatewaySpec } from './plan-gateway.ts';
import { GATEWAY_IDENTITY_LABEL, gatewayHash } from './plan-gateway-live.ts';
import { ctr, desired, NOW, project, svc } from './testing.ts';

const MESH = svc('defaults').mesh;
const HTTP = { ...MESH, protocol: 'http' as const, protocolExplicit: true };
const gw: GatewayContext = { image: 'cmesh/gateway:0123456789ab', socketDir: '/home/u/.local/state/cmesh/gw/ewn' };
/** Two images that differ only in the host's node binary: the same identity (supervisor, libraries). */
const oldNode: GatewayContext = { ...gw, image: 'cmesh/gateway:00000000000a', identity: 'without-node:5a5a5a5a5a5a5a5a' };
const newNode: GatewayContext = { ...oldNode, image: 'cmesh/gateway:00000000000b' };

const net = (name: string): ProjectSpec['networks'][string] => ({ name, engineName: `ewn_${name}`, external: false, internal: false, labels: {} });
const api = svc('api', { replicas: 2, expose: [3000], mesh: HTTP });
const db = svc('db', { mesh: { ...MESH, ports: [5432] } });
/** api and db on the default network only. */
const base = desired(project('ewn', [api, db], { eastWest: true }));
/** The project adds `back`, and api joins it with an alias there. */
const withBack = desired(
  project('ewn', [{ ...api, networks: { default: { aliases: [] }, back: { aliases: ['api.back'] } } }, db], {
    eastWest: true,
    networks: { default: net('default'), back: net('back') },
  }),
);

/** The gateway as a cmesh made it from `from`, observed by inspect (its endpoints' aliases); `older`: a v2 hash. */
function gateway(from: DesiredProject, options: { older?: boolean; ctx?: GatewayContext } = {}): ContainerInfo {
  const want = gatewaySpec(from.project, options.ctx ?? gw, 0)!;
  const names = want.spec.networks.map((n) => n.name);
  return {
    id: 'c-gateway',
    name: want.spec.name,
    image: (options.ctx ?? gw).image,
    state: 'running',
    health: 'none',
    labels: options.older ? { ...olderLabels(want.spec.labels), [Labels.specHash]: gatewayHash(want.spec, { v: 2, networks: names }) } : want.spec.labels,
    createdAt: NOW - 1_800_000,
    restartCount: 0,
    endpoints: [],
    networks: want.spec.networks.map((n) => ({ name: n.name, aliases: [...(n.aliases ?? [])] })),
  };
}

/** An older cmesh's labels: no identity label (its hash covered the image). */
function olderLabels(labels: Record<string, string>): Record<string, string> {
  const { [GATEWAY_IDENTITY_LABEL]: _identity, ...rest } = labels;
  return rest;
}

const replicas = (d: DesiredProject): ContainerInfo[] => [ctr(d, 'api', 1), ctr(d, 'api', 2), ctr(d, 'db', 1)];
const networks = (d: DesiredProject) => Object.values(d.project.networks).map((n) => ({ id: `n-${n.name}`, name: n.engineName, labels: {} }));

export const gatewayLiveCases: PlanCase[] = [
  // `back` is created, the running gateway joins it carrying api's names there, then api's replicas roll onto it.
  { name: 'east-west-gateway-network-added', desired: withBack, containers: [...replicas(base), gateway(base)], networks: networks(base), ctx: { gateway: gw } },
  // `back` left the compose file: the gateway leaves it, and api's replicas roll off it.
  { name: 'east-west-gateway-network-removed', desired: base, containers: [...replicas(withBack), gateway(withBack)], networks: networks(withBack), ctx: { gateway: gw } },
  // cmesh upgraded over a running project: the gateway an older cmesh made is kept as it is.
  { name: 'east-west-gateway-older-kept', desired: base, containers: [...replicas(base), gateway(base, { older: true })], ctx: { gateway: gw } },
  // An older cmesh's gateway cannot tell a network it joined later from its own: a network change recreates it, once.
  { name: 'east-west-gateway-older-network-added', desired: withBack, containers: [...replicas(base), gateway(base, { older: true })], networks: networks(base), ctx: { gateway: gw } },
  // Only the host's node changed: another image of the same identity keeps the gateway (its next worker gets the node).
  { name: 'east-west-gateway-node-changed', desired: base, containers: [...replicas(base), gateway(base, { ctx: oldNode })], ctx: { gateway: newNode } },
];
