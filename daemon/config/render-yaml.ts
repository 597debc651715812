// Renders a normalized ProjectSpec back to canonical compose YAML (what `cmesh config` prints), long syntax everywhere.

import { parse, stringify } from 'yaml';
import type { FileGrant, FileSource, LifecycleHook, MeshSpec, NetworkSpec, ProjectSpec, ServiceNetwork, ServiceSpec, VolumeMount, VolumeSpec } from '../api/project.ts';
import { setOwn } from './node.ts';
import { renderContainerOptions } from './render-container-options.ts';
import { formatDuration } from './normalize/duration.ts';

type Plain = Record<string, unknown>;

/** Drops undefined fields and empty collections so the output stays as short as Compose's. */
function compact(obj: Plain): Plain {
  const out: Plain = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    setOwn<unknown>(out, k, v);
  }
  return out;
}

function sortedRecord<T, U>(rec: Record<string, T>, fn: (v: T) => U): Record<string, U> {
  const out: Record<string, U> = {};
  for (const k of Object.keys(rec).sort()) setOwn(out, k, fn(rec[k] as T));
  return out;
}

function renderMesh(m: MeshSpec): Plain {
  return compact({
    lb: m.lb,
    // Only a declared protocol: east-west treats a declared `http` differently from the default (api/east-west.ts).
    protocol: m.protocolExplicit ? (m.protocolAlias ?? m.upstream ?? m.protocol) : undefined,
    weight: m.weight,
    weights: m.weights,
    health: m.healthExplicit
      ? compact({ path: m.health.path, port: m.health.port, interval: formatDuration(m.health.intervalMs), timeout: formatDuration(m.health.timeoutMs), rise: m.health.rise, fall: m.health.fall })
      : undefined,
    retries: m.retries,
    timeouts: { connect: formatDuration(m.timeouts.connectMs), request: formatDuration(m.timeouts.requestMs), idle: formatDuration(m.timeouts.idleMs) },
    bind: m.bind,
    hash_key: m.hashKey,
    access_log: m.accessLog,
    mesh: m.eastWest === false ? false : undefined,
    ports: m.ports,
  });
}

function renderService(s: ServiceSpec): Plain {
  const hc = s.healthcheck;
  return compact({
    image: s.image,
    build: s.build && compact({ context: s.build.context, ...(s.build.dockerfileInline === undefined ? { dockerfile: s.build.dockerfile } : { dockerfile_inline: s.build.dockerfileInline }), args: s.build.args, target: s.build.target, labels: s.build.labels, no_cache: s.build.noCache }),
    pull_policy: s.pullPolicy,
    platform: s.platform,
    command: s.command,
    entrypoint: s.entrypoint,
    environment: sortedRecord(s.environment, (v) => v),
    env_file: undefined,
    ports: s.ports.map((p) => compact({ target: p.target, published: p.published === undefined ? undefined : p.publishedEnd === undefined ? String(p.published) : `${p.published}-${p.publishedEnd}`, host_ip: p.hostIp, protocol: p.protocol, name: p.name, app_protocol: p.appProtocol, mode: p.mode })),
    expose: s.expose.map(String),
    deploy: compact({ replicas: s.replicas, restart_policy: renderRestartPolicy(s), update_config: s.update && compact({ parallelism: s.update.parallelism, order: s.update.order }) }),
    healthcheck: hc && compact({
      test: hc.test,
      interval: hc.intervalMs === undefined ? undefined : formatDuration(hc.intervalMs),
      timeout: hc.timeoutMs === undefined ? undefined : formatDuration(hc.timeoutMs),
      retries: hc.retries,
      start_period: hc.startPeriodMs === undefined ? undefined : formatDuration(hc.startPeriodMs),
      start_interval: hc.startIntervalMs === undefined ? undefined : formatDuration(hc.startIntervalMs),
      disable: hc.disable ? true : undefined,
    }),
    depends_on: sortedRecord(s.dependsOn, (d) => ({ condition: d.condition, restart: d.restart, required: d.required })),
    restart: renderRestartPolicy(s) !== undefined ? undefined : s.restartMaxRetries === undefined ? s.restart : `${s.restart}:${s.restartMaxRetries}`,
    labels: sortedRecord(s.labels, (v) => v),
    volumes: s.volumes.map(renderMount),
    networks: sortedRecord(s.networks, renderEndpoint),
    working_dir: s.workingDir,
    user: s.user,
    stop_signal: s.stopSignal,
    stop_grace_period: formatDuration(s.stopGracePeriodMs),
    profiles: s.profiles,
    develop: s.watch.length > 0 ? { watch: s.watch.map((w) => compact({ action: w.action, path: w.path, target: w.target, ignore: w.ignore })) } : undefined,
    post_start: s.postStart?.map(renderHook),
    pre_stop: s.preStop?.map(renderHook),
    secrets: s.secrets?.map(renderGrant),
    configs: s.configs?.map(renderGrant),
    ...renderContainerOptions(s.options),
    attach: s.attach,
    use_api_socket: s.useApiSocket,
    'x-cmesh': renderMesh(s.mesh),
  });
}

/** deploy.restart_policy when `restart:` cannot say it (delay, window, or a retry limit on `always`). */
function renderRestartPolicy(s: ServiceSpec): Plain | undefined {
  const needed = s.restartDelayMs !== undefined || s.restartWindowMs !== undefined || (s.restartMaxRetries !== undefined && s.restart !== 'on-failure');
  if (!needed || s.restart === 'unless-stopped') return undefined;
  return compact({
    condition: s.restart === 'no' ? 'none' : s.restart === 'always' ? 'any' : 'on-failure',
    max_attempts: s.restartMaxRetries,
    delay: s.restartDelayMs === undefined ? undefined : formatDuration(s.restartDelayMs),
    window: s.restartWindowMs === undefined ? undefined : formatDuration(s.restartWindowMs),
  });
}

function renderHook(h: LifecycleHook): Plain {
  const environment = Object.keys(h.environment).length > 0 ? sortedRecord(h.environment, (v) => v) : undefined;
  return compact({ command: h.command, user: h.user, privileged: h.privileged, working_dir: h.workingDir, environment });
}

function renderMount(v: VolumeMount): Plain {
  const sub = (o: Plain): Plain | undefined => {
    const c = compact(o);
    return Object.keys(c).length > 0 ? c : undefined;
  };
  return compact({
    type: v.type,
    source: v.source,
    target: v.target,
    read_only: v.readOnly || undefined,
    bind: v.type === 'bind' ? compact({ create_host_path: v.createHostPath ?? false, propagation: v.propagation, recursive: v.recursive, selinux: v.selinux }) : undefined,
    volume: sub({ nocopy: v.noCopy, subpath: v.subpath, labels: v.volumeLabels }),
    tmpfs: sub({ size: v.tmpfsSizeBytes, mode: v.tmpfsMode === undefined ? undefined : `0${v.tmpfsMode.toString(8)}` }),
  });
}

function renderEndpoint(n: ServiceNetwork): Plain | null {
  const out = compact({
    aliases: n.aliases.length > 0 ? n.aliases : undefined,
    ipv4_address: n.ipv4Address,
    ipv6_address: n.ipv6Address,
    link_local_ips: n.linkLocalIps,
    mac_address: n.macAddress,
    priority: n.priority,
    gw_priority: n.gwPriority,
    driver_opts: n.driverOpts,
    interface_name: n.interfaceName,
  });
  return Object.keys(out).length > 0 ? out : null;
}

function renderNetwork(n: NetworkSpec): Plain {
  const ipam = n.ipam && compact({
    driver: n.ipam.driver,
    config: n.ipam.config.map((c) => compact({ subnet: c.subnet, ip_range: c.ipRange, gateway: c.gateway, aux_addresses: c.auxAddresses })),
    options: n.ipam.options,
  });
  return compact({
    name: n.engineName,
    external: n.external || undefined,
    driver: n.driver,
    driver_opts: n.driverOpts,
    internal: n.internal || undefined,
    attachable: n.attachable,
    enable_ipv4: n.enableIpv4,
    enable_ipv6: n.enableIpv6,
    ipam,
    labels: n.labels,
  });
}

function renderGrant(g: FileGrant): Plain {
  return compact({ source: g.source, target: g.target, uid: g.uid === undefined ? undefined : String(g.uid), gid: g.gid === undefined ? undefined : String(g.gid), mode: g.mode === undefined ? undefined : `0${g.mode.toString(8)}` });
}

/** A secret's bytes are never printed: its source is (the file or the variable); a config's inline content is. */
function renderSource(f: FileSource): Plain {
  if (f.file !== undefined) return { file: f.file };
  if (f.environment !== undefined) return { environment: f.environment };
  return f.kind === 'config' ? { content: f.content } : {};
}

function renderVolume(v: VolumeSpec): Record<string, unknown> {
  const k = v.kubernetes;
  const kubernetes = k && compact({ size: k.size, access_modes: k.accessModes, storage_class: k.storageClass });
  return compact({ name: v.engineName, external: v.external || undefined, driver: v.driver, driver_opts: v.driverOpts, labels: v.labels, 'x-cmesh': kubernetes && { kubernetes } });
}

export function projectToComposeYaml(project: ProjectSpec): string {
  const doc = compact({
    name: project.name,
    services: sortedRecord(project.services, renderService),
    networks: sortedRecord(project.networks, renderNetwork),
    volumes: sortedRecord(project.volumes, renderVolume),
    secrets: project.secrets && sortedRecord(project.secrets, renderSource),
    configs: project.configs && sortedRecord(project.configs, renderSource),
  });
  for (const k of Object.keys(project.extensions).sort()) setOwn(doc, k, project.extensions[k]);
  const top = compact({ east_west: project.eastWest === false ? false : undefined, target: project.target, registry: project.registry });
  if (Object.keys(top).length > 0) setOwn<unknown>(doc, 'x-cmesh', top);
  return stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
}

/**
 * The rendered YAML as plain data (`cmesh config --json`). Here, beside the renderer, because a dynamic import of the
 * yaml package from the CLI would see only its CommonJS default export once the CLI bundle is split into chunks.
 */
export function composeYamlToData(yaml: string): unknown {
  return parse(yaml);
}
