// ProjectSpec → what a Swarm deploy sends: overlay networks, secrets/configs (immutable, so named by content hash) and
// one ServiceSpec per service. Pure: the daemon resolves image IDs and object IDs first and passes them in; goldens in
// fixtures/swarm/*.json pin the output. Keys Swarm cannot honour come back as named warnings, never silent drops.

import { createHash } from 'node:crypto';
import { eastWestPlan } from '../api/east-west.ts';
import { Labels, projectLabels } from '../api/labels.ts';
import type { FileGrant, HealthcheckSpec, ProjectSpec, RestartPolicy, ServiceNetwork, ServiceSpec } from '../api/project.ts';
import type { ContainerOptions } from '../api/container-options.ts';
import type { SwarmContainerSpec, SwarmFileRef, SwarmHealthcheck, SwarmNetworkSpec, SwarmObjectKind, SwarmServiceSpec } from '../api/swarm-engine.ts';
import { renderContainerOptions } from '../config/render-container-options.ts';
import { stableStringify } from '../reconcile/hash.ts';
import { swarmMounts } from './mounts.ts';
import { SWARM_SERVICE_KEYS, swarmWhy } from './swarm-keys.ts';

export const TARGET_LABEL = 'dev.cmesh.target';
const NS_PER_MS = 1_000_000;

export interface SwarmWarning {
  service?: string;
  key: string;
  message: string;
}

/** A secret or config as the swarm holds it: `<project>_<name>_<content hash>`, so a change is a new object. */
export interface SwarmObjectPlan {
  kind: SwarmObjectKind;
  /** The top-level key in the compose file. */
  key: string;
  name: string;
  labels: Record<string, string>;
}

export interface ServiceInputs {
  /** `sha256:…` of the service's image, resolved on the engine: a tag would make Swarm pull at every task start. */
  imageId: string;
  replicas: number;
  /** Object IDs by `<kind>:<key>`, known once the objects exist. */
  objectIds: Record<string, string>;
}

/** Labels on every swarm object of a project; services add the service and spec hash. */
export function swarmLabels(project: string): Record<string, string> {
  return { ...projectLabels(project), [TARGET_LABEL]: 'swarm' };
}

export function swarmServiceName(project: string, service: string): string {
  return `${project}_${service}`;
}

export function swarmNetworks(project: ProjectSpec): SwarmNetworkSpec[] {
  return Object.values(project.networks)
    .filter((n) => !n.external)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((n) => ({
      name: n.engineName,
      labels: { ...n.labels, ...swarmLabels(project.name), [Labels.network]: n.name },
      attachable: true as const,
      ...(n.internal ? { internal: true } : {}),
    }));
}

/** Objects to create; `contents` holds each one's bytes by `<kind>:<key>` (the daemon reads `file:` sources). */
export function swarmObjects(project: ProjectSpec, contents: Record<string, Buffer>): SwarmObjectPlan[] {
  const out: SwarmObjectPlan[] = [];
  for (const kind of ['secret', 'config'] as const) {
    const sources = (kind === 'secret' ? project.secrets : project.configs) ?? {};
    for (const key of Object.keys(sources).sort()) {
      const data = contents[`${kind}:${key}`] ?? Buffer.alloc(0);
      const hash = createHash('sha256').update(data).digest('hex').slice(0, 12);
      out.push({ kind, key, name: `${project.name}_${key}_${hash}`, labels: { ...swarmLabels(project.name), [`dev.cmesh.${kind}`]: key } });
    }
  }
  return out;
}

const RESTART: Record<RestartPolicy, 'none' | 'on-failure' | 'any'> = { no: 'none', 'on-failure': 'on-failure', always: 'any', 'unless-stopped': 'any' };

const ns = (ms: number | undefined) => (ms === undefined ? undefined : ms * NS_PER_MS);

function healthcheck(h: HealthcheckSpec): SwarmHealthcheck {
  if (h.disable) return { Test: ['NONE'] };
  return compact({ Test: h.test, Interval: ns(h.intervalMs), Timeout: ns(h.timeoutMs), Retries: h.retries, StartPeriod: ns(h.startPeriodMs) });
}

function fileRefs(kind: SwarmObjectKind, grants: FileGrant[] | undefined, objects: Map<string, SwarmObjectPlan>, ids: Record<string, string>): SwarmFileRef[] | undefined {
  if (!grants || grants.length === 0) return undefined;
  return grants.map((g) => {
    const o = objects.get(`${kind}:${g.source}`);
    const file = { Name: g.target, UID: String(g.uid ?? 0), GID: String(g.gid ?? 0), Mode: g.mode ?? 0o444 };
    const id = ids[`${kind}:${g.source}`] ?? '';
    return kind === 'secret' ? { File: file, SecretID: id, SecretName: o?.name ?? g.source } : { File: file, ConfigID: id, ConfigName: o?.name ?? g.source };
  });
}

/** The container options a Swarm ContainerSpec has fields for (swarm-keys.ts marks their keys honoured). */
function containerOptions(o: ContainerOptions | undefined): Partial<SwarmContainerSpec> {
  if (!o) return {};
  const dns = compact({ Nameservers: o.dns, Search: o.dnsSearch, Options: o.dnsOptions });
  return compact({
    Hostname: o.hostname,
    Hosts: o.extraHosts?.map((h) => `${h.ip} ${h.host}`),
    DNSConfig: nonEmpty(dns),
    ReadOnly: o.readOnly,
    TTY: o.tty,
    OpenStdin: o.stdinOpen,
    Groups: o.groupAdd,
    Sysctls: o.sysctls,
    CapabilityAdd: o.capAdd,
    CapabilityDrop: o.capDrop,
    Ulimits: o.ulimits && Object.entries(o.ulimits).map(([Name, u]) => ({ Name, Soft: u.soft, Hard: u.hard })),
  });
}

/** The ServiceSpec for one service; its spec-hash label covers everything but the replica count (scale ≠ rollout). */
export function swarmService(project: ProjectSpec, s: ServiceSpec, inputs: ServiceInputs, objects: SwarmObjectPlan[]): SwarmServiceSpec {
  const byKey = new Map(objects.map((o) => [`${o.kind}:${o.key}`, o]));
  const labels = { ...s.labels, ...swarmLabels(project.name), [Labels.service]: s.name };
  const env = Object.keys(s.environment)
    .sort()
    .map((k) => `${k}=${s.environment[k]}`);
  const r = s.options?.resources;
  const limits = r && compact({ NanoCPUs: r.nanoCpus, MemoryBytes: r.memoryBytes, Pids: r.pidsLimit });
  const reservations = r && compact({ MemoryBytes: r.memoryReservationBytes });
  // As on the local target: x-cmesh.rollout.max_surge wins over deploy.update_config.parallelism.
  const parallelism = s.mesh.rollout?.maxSurge ?? s.update?.parallelism ?? 1;
  const order = s.update?.order ?? 'start-first';
  const spec: SwarmServiceSpec = {
    Name: swarmServiceName(project.name, s.name),
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: compact({
        Image: inputs.imageId,
        // Task containers carry no `managed` label: the local reconciler and `cmesh ls` must never take them for theirs.
        Labels: { ...s.labels, [Labels.project]: project.name, [Labels.service]: s.name, [TARGET_LABEL]: 'swarm' },
        Command: s.entrypoint,
        Args: s.command,
        Env: env,
        Dir: s.workingDir,
        User: s.user,
        StopSignal: s.stopSignal,
        StopGracePeriod: s.stopGracePeriodMs * NS_PER_MS,
        Healthcheck: s.healthcheck && healthcheck(s.healthcheck),
        Secrets: fileRefs('secret', s.secrets, byKey, inputs.objectIds),
        Configs: fileRefs('config', s.configs, byKey, inputs.objectIds),
        Init: s.options?.init ?? true,
        ...containerOptions(s.options),
        Mounts: nonEmpty(swarmMounts(project, s, swarmLabels(project.name)).mounts),
      }),
      RestartPolicy: compact({
        Condition: RESTART[s.restart],
        MaxAttempts: s.restart === 'on-failure' ? s.restartMaxRetries : undefined,
        Delay: ns(s.restartDelayMs),
        Window: ns(s.restartWindowMs),
      }),
      ...(limits && (Object.keys(limits).length > 0 || Object.keys(reservations ?? {}).length > 0)
        ? { Resources: compact({ Limits: nonEmpty(limits), Reservations: nonEmpty(reservations ?? {}) }) }
        : {}),
      Networks: Object.keys(s.networks)
        .sort()
        .map((n) => ({ Target: project.networks[n]?.engineName ?? n, Aliases: [s.name, ...(s.networks[n]?.aliases ?? [])] })),
      ...(s.options?.logging?.driver !== undefined
        ? { LogDriver: compact({ Name: s.options.logging.driver, Options: nonEmpty(s.options.logging.options) }) }
        : {}),
    },
    Mode: { Replicated: { Replicas: inputs.replicas } },
    UpdateConfig: { Parallelism: parallelism, Order: order, FailureAction: 'rollback' },
    RollbackConfig: { Parallelism: parallelism, Order: order },
    // Host mode without PublishedPort: each task gets an engine-chosen port the cmesh proxy balances over; the
    // user's published port stays the proxy's. Swarm's ingress mesh publishes only a port marked `mode: ingress`.
    EndpointSpec: {
      Mode: 'vip',
      Ports: s.ports.map((p) =>
        p.mode === 'ingress' && p.published !== undefined
          ? { Protocol: p.protocol, TargetPort: p.target, PublishedPort: p.published, PublishMode: 'ingress' as const }
          : { Protocol: p.protocol, TargetPort: p.target, PublishMode: 'host' as const },
      ),
    },
  };
  spec.Labels[Labels.specHash] = swarmSpecHash(spec);
  return spec;
}

/** Hash of what a rollout must follow: the spec without its replica count and without the hash label itself. */
export function swarmSpecHash(spec: SwarmServiceSpec): string {
  const { [Labels.specHash]: _drop, ...labels } = spec.Labels;
  const { Mode: _mode, ...rest } = spec;
  return createHash('sha256').update(stableStringify({ ...rest, Labels: labels })).digest('hex').slice(0, 16);
}

/** Endpoint options of a service network other than aliases: the ServiceSpec's network attachment has no field for them. */
function hasEndpointOptions(n: ServiceNetwork): boolean {
  return Object.entries(n).some(([k, v]) => k !== 'aliases' && v !== undefined);
}

/**
 * Compose keys of the selected services that this target does not deploy (yet): each one named, per service, with the
 * reason swarm-keys.ts gives (and, for mounts, which entries and options).
 */
export function swarmWarnings(project: ProjectSpec, services: string[]): SwarmWarning[] {
  const out: SwarmWarning[] = [];
  for (const name of services) {
    const s = project.services[name];
    if (!s) continue;
    const warn = (key: string, which?: string[]) => out.push({ service: name, key, message: `${name}${which ? ` (${which.join(', ')})` : ''}: ${key} ${swarmWhy(key)}` });
    const { volumeGaps, tmpfsGaps } = swarmMounts(project, s, {});
    if (volumeGaps.length > 0) warn('volumes', volumeGaps);
    if (tmpfsGaps.length > 0) warn('tmpfs', tmpfsGaps);
    if (Object.keys(s.dependsOn).length > 0) warn('depends_on');
    if (s.expose.length > 0) warn('expose');
    if (s.ports.some((p) => p.publishedEnd !== undefined)) warn('ports');
    if (Object.values(s.networks).some(hasEndpointOptions)) warn('networks');
    if (s.healthcheck?.startIntervalMs !== undefined && !s.healthcheck.disable) warn('healthcheck');
    if (s.postStart?.length) warn('post_start');
    if (s.preStop?.length) warn('pre_stop');
    if (s.useApiSocket) warn('use_api_socket');
    if (s.options?.logging && s.options.logging.driver === undefined) warn('logging');
    // Compose's own key names (as `cmesh config` prints them), minus what the ServiceSpec carries.
    const rendered = renderContainerOptions(s.options);
    for (const k of Object.keys(rendered).sort()) {
      const status = SWARM_SERVICE_KEYS[k]?.status;
      // Partial keys (logging, tmpfs) are warned above, for the part Swarm cannot take.
      if (rendered[k] !== undefined && status !== 'honoured' && status !== 'partial') warn(k);
    }
  }
  return out;
}

/**
 * The east-west mesh (on by default) does not reach Swarm tasks: callers resolve a service by Swarm's DNS and VIP on the
 * overlay. Named once per `up` for the selected services the local target would mesh, rather than dropped in silence.
 */
export function eastWestWarning(project: ProjectSpec, services: string[]): SwarmWarning | undefined {
  const meshed = eastWestPlan(project).services.filter((s) => services.includes(s.name)).map((s) => s.name);
  if (meshed.length === 0) return undefined;
  return {
    key: 'x-cmesh.east_west',
    message: `x-cmesh.east_west: calls by name to ${meshed.join(', ')} go through Swarm's DNS and VIP on the overlay, not the mesh: no retries, ejection, balancer choice or east-west traffic policy on the swarm target (\`x-cmesh: { east_west: false }\` says so and silences this)`,
  };
}

function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function nonEmpty<T extends object>(o: T): T | undefined {
  return Object.keys(o).length > 0 ? o : undefined;
}

/** The project as the mesh should see it: ports Swarm's ingress publishes are not the proxy's to bind. */
export function meshView<T extends { project: ProjectSpec }>(desired: T): T {
  const services = Object.fromEntries(
    Object.entries(desired.project.services).map(([k, s]) => [k, s.ports.some((p) => p.mode === 'ingress') ? { ...s, ports: s.ports.filter((p) => p.mode !== 'ingress') } : s]),
  );
  return { ...desired, project: { ...desired.project, services } };
}
