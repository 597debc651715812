// Golden cases of the east-west gateway: created before the replicas, adopted, recreated on a spec change, removed
// when east-west goes off and on `down`; replicas of meshed services lose their DNS aliases (a start-first roll).

import type { ContainerInfo } from '../api/engine.ts';
import { Labels } from '../api/labels.ts';
import type { PlanCase } from './plan-case.ts';
import { type GatewayContext, gatewaySpec } from './plan-gateway.ts';
import { ctr, dep, desired, NOW, project, svc } from './testing.ts';

const MESH = svc('defaults').mesh;
const gw: GatewayContext = { image: 'cmesh/gateway:0123456789ab', socketDir: '/home/u/.local/state/cmesh/gw/ew' };

const services = [
  // Published: HTTP east-west on 3000 as well.
  svc('web', { replicas: 2, ports: [{ target: 3000, published: 8080, protocol: 'tcp' }] }),
  // Unpublished, HTTP known from its probe; shares 3000 with web (told apart by Host) and has an alias.
  svc('api', {
    replicas: 2,
    expose: [3000],
    mesh: { ...MESH, health: { ...MESH.health, path: '/healthz' } },
    networks: { default: { aliases: ['api.internal'] } },
  }),
  // A database: TCP from `x-cmesh.ports`.
  svc('db', { mesh: { ...MESH, ports: [5432] } }),
  // Opted out, and one without any port: both keep plain Docker DNS.
  svc('side', { expose: [9000], mesh: { ...MESH, eastWest: false } }),
  svc('worker'),
  // TCP on 5432 too: one gateway cannot tell it from db, so it gets a second gateway (ew-cmesh-gateway-2).
  svc('replica-db', { expose: [5432] }),
];
/** The same project where replica-db left the mesh: the second gateway is no longer needed. */
const single = desired(
  project(
    'ew',
    services.map((s) => (s.name === 'replica-db' ? { ...s, mesh: { ...s.mesh, eastWest: false } } : s)),
    { eastWest: true },
  ),
);
const on = desired(project('ew', services, { eastWest: true }));
/** What replaces a gateway (start-first): api's compose alias renamed; web opted out of the mesh. */
const realiased = desired(project('ew', services.map((s) => (s.name === 'api' ? { ...s, networks: { default: { aliases: ['api.local'] } } } : s)), { eastWest: true }));
const optedOut = desired(project('ew', services.map((s) => (s.name === 'web' ? { ...s, mesh: { ...s.mesh, eastWest: false } } : s)), { eastWest: true }));
const off = desired(project('ew', services));

/** A gateway container as a cmesh made it from `from` (default: `on`) with the image `image` (default: gw's). */
function gateway(options: { stale?: boolean; state?: ContainerInfo['state']; index?: number; from?: typeof on; image?: string } = {}): ContainerInfo {
  const index = options.index ?? 0;
  const image = options.image ?? gw.image;
  const want = gatewaySpec((options.from ?? on).project, { ...gw, image }, index)!;
  return {
    id: index === 0 ? 'c-gateway' : `c-gateway-${index + 1}`,
    name: want.spec.name,
    image,
    state: options.state ?? 'running',
    health: 'none',
    labels: { ...want.spec.labels, [Labels.specHash]: options.stale ? 'stale0000000000000000' : want.hash },
    createdAt: NOW - 1_800_000,
    restartCount: 0,
    endpoints: [],
  };
}

/** A start-first replacement a daemon left behind (`<gateway>-next`), made from `from`'s spec. */
function pending(from: typeof on, state: ContainerInfo['state'] = 'running'): ContainerInfo {
  const c = gateway({ from, state });
  return { ...c, id: 'c-gateway-next', name: `${c.name}-next`, createdAt: c.createdAt + 60_000 };
}
const realiasedHash = gatewaySpec(realiased.project, gw, 0)!.hash;

/** Every replica as it runs today, hashes taken with `d`'s spec. */
const replicas = (d: typeof on): ContainerInfo[] => [
  ctr(d, 'web', 1),
  ctr(d, 'web', 2),
  ctr(d, 'api', 1),
  ctr(d, 'api', 2),
  ctr(d, 'db', 1),
  ctr(d, 'side', 1),
  ctr(d, 'worker', 1),
  ctr(d, 'replica-db', 1),
];

/** A running meshed project of two HTTP services on one gateway, then `cache` joins it or `api` leaves it. */
const HTTP = { ...MESH, protocol: 'http' as const, protocolExplicit: true };
const pair = [svc('api', { expose: [3000], mesh: HTTP }), svc('web', { expose: [3000], mesh: HTTP })];
const pairOn = desired(project('ew', pair, { eastWest: true }));
const pairRunning = (): ContainerInfo[] => {
  const want = gatewaySpec(pairOn.project, gw, 0)!;
  const gwc = { ...gateway(), labels: { ...want.spec.labels }, name: want.spec.name };
  return [ctr(pairOn, 'api', 1), ctr(pairOn, 'web', 1), gwc];
};
const joined = desired(project('ew', [...pair, svc('cache', { expose: [6379] })], { eastWest: true }));
const left = desired(project('ew', [pair[1]!], { eastWest: true }));

/** web calls api by name and waits for it (depends_on healthy): the gateway must answer for api before web starts. */
const chain = desired(project('ew', [pair[0]!, svc('web', { expose: [3000], mesh: HTTP, dependsOn: { api: dep('service_healthy') } })], { eastWest: true }));

/** A fresh up where one dependent needs a meshed service (api) and another an unmeshed one (job, no port). */
const mixed = desired(
  project(
    'ew',
    [
      pair[0]!,
      svc('job'),
      svc('app', { dependsOn: { job: dep('service_started') } }),
      svc('web', { expose: [3000], mesh: HTTP, dependsOn: { api: dep('service_started') } }),
    ],
    { eastWest: true },
  ),
);

export const gatewayCases: PlanCase[] = [
  // app waits for job only (plain Docker DNS answers for it); web's gate on api also waits for the gateway's listeners.
  { name: 'east-west-fresh-up-unmeshed-dependency', desired: mixed, containers: [], ctx: { gateway: gw } },
  // The image is not to be had: no gateway, so no gate waits for one.
  { name: 'east-west-depends-on-without-gateway', desired: chain, containers: [], ctx: {} },
  // A first up: the gateway beside api's replicas (off the critical path), done before web's stage opens.
  { name: 'east-west-fresh-up-depends-on', desired: chain, containers: [], ctx: { gateway: gw } },
  // Sticky placement: cache gets a new gateway (it only adds aliases) beside its first replica; api and web stay put.
  { name: 'east-west-service-joins', desired: joined, containers: pairRunning(), ctx: { gateway: gw } },
  // api leaves the project: its gateway keeps serving web as it is (api's stale alias is a name nobody has any more).
  { name: 'east-west-service-leaves', desired: left, containers: pairRunning().filter((c) => !c.name.includes('api')), ctx: { gateway: gw } },
  { name: 'east-west-fresh-up', desired: on, containers: [], ctx: { gateway: gw } },
  // cmesh upgraded (or east_west switched on) over a running project: the gateway first, then every meshed service
  // rolls start-first to drop its aliases; services left out keep their containers.
  { name: 'east-west-enabled-on-running-project', desired: on, containers: replicas(off), ctx: { gateway: gw } },
  { name: 'east-west-adopted-after-daemon-restart', desired: on, containers: [...replicas(on), gateway(), gateway({ index: 1 })], ctx: { gateway: gw } },
  // Only the first gateway is there (made by a cmesh that left colliding TCP services on plain DNS): the second comes.
  { name: 'east-west-second-gateway-added', desired: on, containers: [...replicas(on), gateway()], ctx: { gateway: gw } },
  // No TCP collision left: the second gateway goes after the replicas (replica-db takes its DNS alias back first).
  { name: 'east-west-second-gateway-removed', desired: single, containers: [...replicas(on), gateway(), gateway({ index: 1 })], ctx: { gateway: gw } },
  { name: 'east-west-gateway-spec-changed', desired: on, containers: [...replicas(on), gateway({ stale: true }), gateway({ index: 1 })], ctx: { gateway: gw } },
  // The cases a running container cannot take (its image, its network aliases): replaced start-first, with the reason.
  { name: 'east-west-gateway-image-changed', desired: on, containers: [...replicas(on), gateway({ image: 'cmesh/gateway:fedcba987654' }), gateway({ index: 1 })], ctx: { gateway: gw } },
  { name: 'east-west-gateway-alias-changed', desired: realiased, containers: [...replicas(realiased), gateway(), gateway({ index: 1 })], ctx: { gateway: gw } },
  { name: 'east-west-gateway-service-opted-out', desired: optedOut, containers: [...replicas(optedOut), gateway(), gateway({ index: 1 })], ctx: { gateway: gw } },
  // A replacement interrupted by a daemon crash: undone when nothing needs to change any more; adopted when it runs
  // the wanted spec (gated on serving, then the old one drained); remade when stopped; promoted when the old is gone.
  { name: 'east-west-gateway-replace-undone', desired: on, containers: [...replicas(on), gateway(), gateway({ index: 1 }), pending(on)], ctx: { gateway: gw } },
  { name: 'east-west-gateway-replace-adopted', desired: realiased, containers: [...replicas(realiased), gateway(), gateway({ index: 1 }), pending(realiased)], ctx: { gateway: gw } },
  { name: 'east-west-gateway-replace-stale', desired: realiased, containers: [...replicas(realiased), gateway(), gateway({ index: 1 }), pending(realiased, 'exited')], ctx: { gateway: gw } },
  { name: 'east-west-gateway-replace-promoted', desired: realiased, containers: [...replicas(realiased), gateway({ index: 1 }), pending(realiased)], ctx: { gateway: gw } },
  // Its replacement never served (this generation): the old gateway serves on, and the plan says so.
  {
    name: 'east-west-gateway-replace-failed',
    desired: realiased,
    containers: [...replicas(realiased), gateway(), gateway({ index: 1 })],
    ctx: { gateway: gw, failedRollouts: { 'cmesh:gateway#0': realiasedHash } },
  },
  // Not running: nothing serves its names, so nothing to keep up: stop-first.
  { name: 'east-west-gateway-exited-changed', desired: realiased, containers: [...replicas(realiased), gateway({ state: 'exited' }), gateway({ index: 1 })], ctx: { gateway: gw } },
  { name: 'east-west-gateway-exited', desired: on, containers: [...replicas(on), gateway({ state: 'exited' }), gateway({ index: 1 })], ctx: { gateway: gw } },
  { name: 'east-west-image-not-ready', desired: on, containers: replicas(on), ctx: {} },
  { name: 'east-west-switched-off', desired: off, containers: [...replicas(on), gateway(), gateway({ index: 1 })] },
  { name: 'east-west-down', desired: on, containers: [...replicas(on), gateway(), gateway({ index: 1 })], down: { volumes: false, removeOrphans: false } },
];
