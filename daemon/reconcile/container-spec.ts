// Turns a ServiceSpec into the engine's ContainerCreateSpec: one template per service, one name per replica.

import type { ContainerOptions } from '../api/container-options.ts';
import { isMeshedEastWest, knownPorts } from '../api/east-west.ts';
import type { ContainerCreateSpec, MountSpec } from '../api/engine.ts';
import { containerLabels, containerName, Labels, projectLabels } from '../api/labels.ts';
import type { ProjectSpec, ServiceSpec } from '../api/project.ts';

/** Everything a replica's container shares with its siblings; the spec hash is taken over this. */
export type ContainerTemplate = Omit<ContainerCreateSpec, 'name'>;

/** Image a service runs: its `image:`, or `<project>-<service>` for build-only services (Compose v2 naming). */
export function imageRef(project: ProjectSpec, service: ServiceSpec): string {
  return service.image ?? `${project.name}-${service.name}`;
}

function networksOf(project: ProjectSpec, service: ServiceSpec): ContainerCreateSpec['networks'] {
  // network_mode: the container lives in another network namespace and joins no project network.
  if (service.options?.networkMode !== undefined) return [];
  let entries = Object.entries(service.networks);
  // The loader normally attaches `default`; this covers specs built by hand (tests, API clients).
  if (entries.length === 0 && project.networks['default']) entries = [['default', { aliases: [] }]];
  // East-west: the gateway carries the service's names; if replicas kept them too, Docker DNS would round-robin
  // between the gateway and the replicas. They stay reachable by container name.
  const meshed = isMeshedEastWest(project, service.name);
  return entries
    .map(([key, { aliases, priority, ...endpoint }]) => ({
      key: { priority: priority ?? 0 },
      spec: {
        ...endpoint,
        name: project.networks[key]?.engineName ?? key,
        // The service name is always an alias, so `http://api:8080` resolves to any replica like in Compose.
        aliases: meshed ? [] : [...new Set([service.name, ...aliases])].sort(),
        ...(service.options?.externalLinks ? { links: service.options.externalLinks } : {}),
      },
    }))
    // Compose's connect order: higher `priority` first, then by name.
    .sort((a, b) => b.key.priority - a.key.priority || a.spec.name.localeCompare(b.spec.name))
    .map((e) => e.spec);
}

function mountsOf(project: ProjectSpec, service: ServiceSpec): MountSpec[] {
  return service.volumes.map(({ source: src, ...rest }) => {
    const source = rest.type === 'volume' && src ? (project.volumes[src]?.engineName ?? src) : src;
    return { ...rest, ...(source === undefined ? {} : { source }) };
  });
}

function portsOf(project: ProjectSpec, service: ServiceSpec): ContainerCreateSpec['ports'] {
  const seen = new Map<string, { containerPort: number; protocol: 'tcp' | 'udp' }>();
  for (const p of service.ports) seen.set(`${p.target}/${p.protocol}`, { containerPort: p.target, protocol: p.protocol });
  for (const port of service.expose) seen.set(`${port}/tcp`, { containerPort: port, protocol: 'tcp' });
  // East-west ports are published on loopback too, so the daemon can probe a start-first rollout's new replica.
  if (isMeshedEastWest(project, service.name)) for (const port of knownPorts(service)) seen.set(`${port}/tcp`, { containerPort: port, protocol: 'tcp' });
  return [...seen.values()].sort((a, b) => a.containerPort - b.containerPort || a.protocol.localeCompare(b.protocol));
}

export function containerTemplate(project: ProjectSpec, service: ServiceSpec): ContainerTemplate {
  const template: ContainerTemplate = {
    image: imageRef(project, service),
    env: { ...service.environment },
    labels: { ...service.labels, ...projectLabels(project.name), [Labels.service]: service.name },
    ports: portsOf(project, service),
    mounts: mountsOf(project, service),
    networks: networksOf(project, service),
    stopTimeoutSec: stopTimeoutSec(service),
    init: service.options?.init ?? true,
  };
  if (service.options) template.options = resolveNamespaces(project, service.options);
  if (service.command) template.command = [...service.command];
  if (service.entrypoint) template.entrypoint = [...service.entrypoint];
  if (service.healthcheck && !service.healthcheck.disable) template.healthcheck = { ...service.healthcheck };
  if (service.workingDir) template.workingDir = service.workingDir;
  if (service.user) template.user = service.user;
  if (service.stopSignal) template.stopSignal = service.stopSignal;
  return template;
}

export function stopTimeoutSec(service: ServiceSpec): number {
  return Math.max(0, Math.ceil(service.stopGracePeriodMs / 1000));
}

/**
 * The network the daemon may reach a replica on at its own address: the first, in connect order, that this project
 * creates as a plain IPv4 bridge (the host has a route to it). External networks may be overlay or macvlan, whose
 * addresses the host cannot reach; a service in another namespace (network_mode) has none of its own; a bridge whose
 * driver options keep the host off it (no IPv4 on the bridge, Engine 28's isolated gateway mode) is skipped too.
 */
export function reachNetworkOf(project: ProjectSpec, service: ServiceSpec, networks: ContainerCreateSpec['networks']): string | undefined {
  if (service.options?.networkMode !== undefined) return undefined;
  const hostOnBridge = (opts: Record<string, string> = {}): boolean =>
    opts['com.docker.network.bridge.inhibit_ipv4'] !== 'true' && opts['com.docker.network.bridge.gateway_mode_ipv4'] !== 'isolated';
  const reachable = new Set(
    Object.values(project.networks)
      .filter((n) => !n.external && (n.driver === undefined || n.driver === 'bridge') && n.enableIpv4 !== false && hostOnBridge(n.driverOpts))
      .map((n) => n.engineName),
  );
  return networks.find((n) => reachable.has(n.name))?.name;
}

/** The full create spec of one replica; labels carry the spec hash so the next observe can compare. */
export function createSpec(project: ProjectSpec, service: ServiceSpec, replica: number, specHash: string): ContainerCreateSpec {
  const template = containerTemplate(project, service);
  const custom = service.options?.containerName;
  const reach = template.ports.length > 0 ? reachNetworkOf(project, service, template.networks) : undefined;
  return {
    ...template,
    ...(reach === undefined ? {} : { reachNetwork: reach }),
    name: replicaContainerName(project, service, replica),
    labels: {
      ...template.labels,
      ...containerLabels(project.name, service.name, replica, specHash),
      ...(custom === undefined ? {} : { [Labels.containerName]: custom }),
    },
  };
}

/** A replica's engine name: compose's `container_name` (one replica only), else `<project>-<service>-<n>`. */
export function replicaContainerName(project: ProjectSpec, service: ServiceSpec, replica: number): string {
  return service.options?.containerName ?? containerName(project.name, service.name, replica);
}

/**
 * `ipc`/`pid`/`uts`/`network_mode`: `service:<name>` joins that service's first replica, as Compose does; the engine wants
 * `container:<engine name>`. A service unknown here is left as written: the loader reports it.
 */
function resolveNamespaces(project: ProjectSpec, options: ContainerOptions): ContainerOptions {
  const out: ContainerOptions = { ...options };
  for (const key of ['ipc', 'pid', 'uts', 'networkMode'] as const) {
    const mode = options[key];
    const target = mode?.startsWith('service:') ? project.services[mode.slice('service:'.length)] : undefined;
    if (target) out[key] = `container:${replicaContainerName(project, target, 1)}`;
  }
  // volumes_from: `service:<name>` takes the volumes of that service's first replica; the engine wants a container name.
  if (options.volumesFrom) {
    out.volumesFrom = options.volumesFrom.map((v) => {
      const [kind, name = '', mode] = v.split(':');
      const target = kind === 'service' ? project.services[name] : undefined;
      const container = target ? replicaContainerName(project, target, 1) : name;
      return mode === undefined ? container : `${container}:${mode}`;
    });
  }
  return out;
}
