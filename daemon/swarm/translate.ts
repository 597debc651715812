// ProjectSpec → what a Swarm deploy sends: overlay networks, secrets/configs (immutable, so named by content hash) and
// one ServiceSpec per service. Pure: the daemon resolves image IDs and object IDs first and passes them in; goldens in
// fixtures/swarm/*.json pin the output. Keys Swarm cannot honour come back as named warnings, never silent drops.

import { createHash } from 'node:crypto';
import { Labels, projectLabels } from '../api/labels.ts';
import type { FileGrant, HealthcheckSpec, ProjectSpec, RestartPolicy, ServiceSpec } from '../api/project.ts';
import type { SwarmFileRef, SwarmHealthcheck, SwarmNetworkSpec, SwarmObjectKind, SwarmServiceSpec } from '../api/swarm-engine.ts';
import { renderContainerOptions } from '../config/render-container-options.ts';
import { stableStringify } from '../reconcile/hash.ts';

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

/** Container-option keys the ServiceSpec carries (init, cpus and memory limits, pids limit, memory reservation). */
const HONOURED_OPTIONS = new Set(['init', 'cpus', 'mem_limit', 'mem_reservation', 'pids_limit']);

const RESTART: Record<RestartPolicy, 'none' | 'on-failure' | 'any'> = { no: 'none', 'on-failure': 'on-failure', always: 'any', 'unless-stopped': 'any' };

function healthcheck(h: HealthcheckSpec): SwarmHealthcheck {
  if (h.disable) return { Test: ['NONE'] };
  const ns = (ms: number | undefined) => (ms === undefined ? undefined : ms * NS_PER_MS);
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
  const parallelism = s.mesh.rollout?.maxSurge ?? 1;
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
      }),
      RestartPolicy: compact({ Condition: RESTART[s.restart], MaxAttempts: s.restart === 'on-failure' ? s.restartMaxRetries : undefined }),
      ...(limits && (Object.keys(limits).length > 0 || Object.keys(reservations ?? {}).length > 0)
        ? { Resources: compact({ Limits: nonEmpty(limits), Reservations: nonEmpty(reservations ?? {}) }) }
        : {}),
      Networks: Object.keys(s.networks)
        .sort()
        .map((n) => ({ Target: project.networks[n]?.engineName ?? n, Aliases: [s.name, ...(s.networks[n]?.aliases ?? [])] })),
    },
    Mode: { Replicated: { Replicas: inputs.replicas } },
    UpdateConfig: { Parallelism: parallelism, Order: 'start-first', FailureAction: 'rollback' },
    RollbackConfig: { Parallelism: parallelism, Order: 'start-first' },
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

/** Compose keys of the selected services that this target does not deploy (yet): each one named, per service. */
export function swarmWarnings(project: ProjectSpec, services: string[]): SwarmWarning[] {
  const out: SwarmWarning[] = [];
  for (const name of services) {
    const s = project.services[name];
    if (!s) continue;
    const warn = (key: string, message: string) => out.push({ service: name, key, message: `${name}: ${key} ${message}` });
    if (s.volumes.length > 0) warn('volumes', 'is not deployed on the swarm target yet: the tasks run without these mounts');
    if (Object.keys(s.dependsOn).length > 0) warn('depends_on', 'has no start order on Swarm: services start together and must retry their dependencies');
    if (s.expose.length > 0) warn('expose', 'is not published on the swarm target: reach these ports over the project overlay network');
    if (s.ports.some((p) => p.publishedEnd !== undefined)) warn('ports', 'ranges publish only their first port on the swarm target');
    // Compose's own key names (as `cmesh config` prints them), minus what the ServiceSpec carries.
    const rendered = renderContainerOptions(s.options);
    for (const k of Object.keys(rendered).sort()) if (rendered[k] !== undefined && !HONOURED_OPTIONS.has(k)) warn(k, 'is not applied to Swarm tasks yet');
  }
  return out;
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
