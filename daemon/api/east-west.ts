// East-west mesh (preview): which services callers reach by name through the project's gateway, on which ports and
// protocols. Pure and shared: the planner (gateway aliases, replica aliases), the daemon (the gateway's endpoint
// table) and `cmesh config` all read the same answer.

import type { ProjectSpec, Protocol, ServiceSpec } from './project.ts';

/** Engine name of a project's gateway container: the first is `<project>-cmesh-gateway`, then `-2`, `-3`… */
export function gatewayName(project: string, index = 0): string {
  return index === 0 ? `${project}-cmesh-gateway` : `${project}-cmesh-gateway-${index + 1}`;
}

/**
 * The gateway as a ContainerRef: a service name no compose service can have (":" is not allowed), replica 0. It lets
 * the plan's create/start/remove actions and their events carry the gateway without a second set of action kinds.
 */
export const GATEWAY_SERVICE = 'cmesh:gateway';

/** Where the gateway finds the daemon's control socket: a CMESH_HOME directory bind-mounted here. */
export const GATEWAY_SOCKET_DIR = '/run/cmesh';
export const GATEWAY_SOCKET_FILE = 'gw.sock';
/** In the same directory: which worker bundle the gateway's supervisor starts (daemon/gateway-worker.ts). */
export const GATEWAY_WORKER_POINTER = 'worker.json';

export interface EastWestPort {
  port: number;
  /** http: balanced per request (Host tells services sharing the port apart); tcp: per connection. */
  protocol: Protocol;
}

export interface EastWestService {
  name: string;
  ports: EastWestPort[];
  /** Container port the gateway's active probe targets. */
  probePort: number;
  /** Which of the project's gateways carries its names (0: the first; see eastWestPlan). */
  gateway: number;
}

export interface EastWestPlan {
  /** Meshed services, sorted by name. */
  services: EastWestService[];
  /** Services left on plain Docker DNS, and why (opted out, no known port). */
  skipped: { service: string; reason: string }[];
  /** How many gateway containers the meshed services need (0 with none). */
  gateways: number;
}

/** Two services can share a gateway unless they share a container port that one of them serves as TCP. */
export function collide(a: EastWestPort[], b: EastWestPort[]): boolean {
  return a.some((p) => b.some((q) => q.port === p.port && (p.protocol === 'tcp' || q.protocol === 'tcp')));
}

/**
 * Container ports the mesh knows for a service: `ports` (container side, TCP), `expose`, the image's `EXPOSE` (once the
 * daemon read it), `x-cmesh.ports`, the health port.
 */
export function knownPorts(service: ServiceSpec): number[] {
  const ports = new Set<number>();
  for (const p of service.ports) if (p.protocol === 'tcp') ports.add(p.target);
  for (const p of service.expose) ports.add(p);
  for (const p of service.imageExpose ?? []) ports.add(p);
  for (const p of service.mesh.ports ?? []) ports.add(p);
  if (service.mesh.health.port !== undefined) ports.add(service.mesh.health.port);
  return [...ports].sort((a, b) => a - b);
}

/** The port the active probe targets: health.port, else the first published one, else the first known one. */
export function probePortOf(service: ServiceSpec, ports: number[]): number | undefined {
  return service.mesh.health.port ?? service.ports.find((p) => p.published !== undefined && p.protocol === 'tcp')?.target ?? ports[0];
}

/**
 * Per request only where HTTP is known: `protocol: http` set explicitly, a published port (the ingress path already
 * treats it as HTTP), or an HTTP health probe on that port. Anything else — a database from `expose`, a server that
 * speaks first — is balanced per connection, so meshing never breaks a non-HTTP protocol.
 */
export function portProtocol(service: ServiceSpec, port: number, probePort: number | undefined): Protocol {
  const m = service.mesh;
  if (m.protocol === 'tcp') return 'tcp';
  if (m.protocolExplicit) return 'http';
  if (service.ports.some((p) => p.target === port && p.published !== undefined && p.protocol === 'tcp')) return 'http';
  if (m.health.path !== undefined && probePort === port) return 'http';
  return 'tcp';
}

/**
 * The project's east-west plan; empty unless east-west is on (the loader's default). `gateway` is the placement of a
 * first `up`; with gateways already running, east-west-placement.ts keeps each service where it is. Two HTTP services may share a port in one
 * gateway (it routes by Host); a port that one of them serves as TCP cannot be told apart there, so such services go to
 * separate gateways. Services are placed first-fit in name order: each into the first gateway where it collides with
 * nobody, a new gateway only when every existing one has a collision (for the usual case, a few databases or servers
 * on one default port, that is the fewest; the order keeps the placement stable across passes).
 */
export function eastWestPlan(project: ProjectSpec): EastWestPlan {
  const out: EastWestPlan = { services: [], skipped: [], gateways: 0 };
  if (project.eastWest !== true) return out;
  const gateways: EastWestPort[][][] = [];
  for (const service of Object.values(project.services).sort((a, b) => a.name.localeCompare(b.name))) {
    if (service.mesh.eastWest === false) {
      out.skipped.push({ service: service.name, reason: 'x-cmesh.mesh: false' });
      continue;
    }
    const known = knownPorts(service);
    const probePort = probePortOf(service, known);
    if (known.length === 0 || probePort === undefined) {
      // Before `up` the image's EXPOSE is unknown (cmesh config never pulls): say it may still mesh the service.
      const reason =
        service.imageExpose === undefined
          ? "no container port in the compose file (the image's EXPOSE is read at up, once the image is local; or add ports, expose or x-cmesh.ports)"
          : "no known container port, the image's EXPOSE included (add ports, expose or x-cmesh.ports)";
      out.skipped.push({ service: service.name, reason });
      continue;
    }
    const ports = known.map((port) => ({ port, protocol: portProtocol(service, port, probePort) }));
    let gateway = gateways.findIndex((members) => members.every((other) => !collide(ports, other)));
    if (gateway < 0) gateway = gateways.push([]) - 1;
    gateways[gateway]!.push(ports);
    out.services.push({ name: service.name, ports, probePort, gateway });
  }
  out.gateways = gateways.length;
  return out;
}

/** Whether callers reach this service through the gateway (its replicas then drop the service's DNS aliases). */
export function isMeshedEastWest(project: ProjectSpec, service: string): boolean {
  return eastWestPlan(project).services.some((s) => s.name === service);
}
