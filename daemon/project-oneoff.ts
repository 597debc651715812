// `cmesh run`, `exec`, `cp` and `rm` on the daemon's side: the one-off container made from a service's config, and the
// replica or one-off an interactive verb acts on. The manager (projects.ts) serializes and starts dependencies.

import { randomBytes } from 'node:crypto';
import type { ContainersResult, RmRequest, RunRequest, RunResult, UpRequest } from './api/control.ts';
import type { ContainerCreateSpec, ContainerInfo, ContainerState, MountSpec } from './api/engine.ts';
import { CmeshError } from './api/errors.ts';
import { isOneOff, Labels, oneOffLabels, projectLabels } from './api/labels.ts';
import type { DaemonEvent } from './api/events.ts';
import type { ContainerOptions } from './api/container-options.ts';
import type { ProjectSpec } from './api/project.ts';
import { assertServices } from './desired-merge.ts';
import { withFileGrants } from './file-grants.ts';
import { ensureImages } from './images.ts';
import type { PullTimes } from './pull-state.ts';
import type { VerbContext } from './project-verbs.ts';
import { containerTemplate } from './reconcile/container-spec.ts';
import { setupActions } from './reconcile/plan.ts';

/** Compose's one-off name: `<project>-<service>-run-<12 hex>`. */
export function oneOffName(project: string, service: string): string {
  return `${project}-${service}-run-${randomBytes(6).toString('hex')}`;
}

/**
 * The one-off's create spec: the service's image, environment, volumes and networks, but none of a replica's identity:
 * no service alias on the networks (Compose gives a one-off none, so `http://web` never reaches it), no published
 * ports but those of `-p`, labels that keep the planner, the mesh and every replica verb away from it.
 */
export function oneOffSpec(project: ProjectSpec, request: RunRequest, name: string): ContainerCreateSpec {
  const service = project.services[request.service]!;
  const template = containerTemplate(project, service);
  const mounts: MountSpec[] = request.volumes.map((v) => {
    const bind = v.source.startsWith('/');
    const source = bind ? v.source : (project.volumes[v.source]?.engineName ?? v.source);
    return { type: bind ? 'bind' : 'volume', source, target: v.target, readOnly: v.readOnly };
  });
  const spec: ContainerCreateSpec = {
    ...template,
    name,
    labels: { ...service.labels, ...request.labels, ...oneOffLabels(project.name, service.name) },
    env: { ...template.env, ...request.env },
    ports: request.ports.map((p) => ({ containerPort: p.containerPort, protocol: p.protocol, hostPort: p.hostPort })),
    networks: request.useAliases ? template.networks : template.networks.map((n) => ({ name: n.name, aliases: [] })),
    // A `-v` on a target the service already mounts replaces that mount, as Compose does.
    mounts: [...template.mounts.filter((m) => !mounts.some((v) => v.target === m.target)), ...mounts],
    tty: request.tty,
    openStdin: request.interactive && !request.detach,
  };
  if (request.command.length > 0) spec.command = [...request.command];
  if (request.entrypoint) spec.entrypoint = [...request.entrypoint];
  if (request.user !== undefined) spec.user = request.user;
  if (request.workingDir !== undefined) spec.workingDir = request.workingDir;
  // Only detached: attached, the attach removes it after reading its exit code (the engine could race it away first).
  if (request.rm && request.detach) spec.autoRemove = true;
  if (request.capAdd?.length || request.capDrop?.length) spec.options = withCaps(spec.options, request.capAdd, request.capDrop);
  return spec;
}

/** `--cap-add` / `--cap-drop` on top of the service's own, without duplicates. */
function withCaps(options: ContainerOptions | undefined, add: string[] = [], drop: string[] = []): ContainerOptions {
  const merged = (a: string[] | undefined, b: string[]) => [...new Set([...(a ?? []), ...b])];
  return { ...options, ...(add.length ? { capAdd: merged(options?.capAdd, add) } : {}), ...(drop.length ? { capDrop: merged(options?.capDrop, drop) } : {}) };
}

/** Creates the project's networks and volumes if `up` never ran (the engine adopts ones that exist with our labels). */
export async function ensureProjectResources(ctx: VerbContext, project: ProjectSpec): Promise<void> {
  for (const action of setupActions(project, [], [])) {
    if (action.kind === 'ensure-network') await ctx.engine.createNetwork(action.spec);
    else if (action.kind === 'ensure-volume') await ctx.engine.createVolume(action.spec);
  }
}

/** Creates the one-off (and starts it when detached); a failed start leaves nothing behind. */
export async function createOneOff(ctx: VerbContext, project: ProjectSpec, request: RunRequest): Promise<RunResult> {
  await ensureProjectResources(ctx, project);
  const name = request.name ?? oneOffName(project.name, request.service);
  const { id } = await ctx.engine.createContainer(oneOffSpec(project, request, name));
  if (request.detach) {
    try {
      await ctx.engine.startContainer(id);
    } catch (err) {
      await ctx.engine.removeContainer(id, { force: true }).catch(() => undefined);
      throw err;
    }
  }
  return { container: id, name };
}

/** A one-off of this project, by id or name; anything else (a replica, another project's) is not found. */
export async function requireOneOff(ctx: VerbContext, idOrName: string): Promise<ContainerInfo> {
  const c = await ctx.engine.inspectContainer(idOrName);
  if (c && isOneOff(c) && c.labels[Labels.project] === ctx.project) return c;
  throw new CmeshError('CMESH_E_SERVICE_NOT_FOUND', `no one-off container "${idOrName}" in project "${ctx.project}"`, {
    hint: 'it may have been removed already (`cmesh down` removes one-offs)',
  });
}

/** The replica `index` of `service`; `running` asks for one that runs (exec), like Compose's --index. */
export async function requireReplica(ctx: VerbContext, service: string, index: number, running: boolean): Promise<ContainerInfo> {
  if (ctx.replica) return ctx.replica(service, index, running);
  const all = await ctx.engine.listContainers({ labels: { ...projectLabels(ctx.project), [Labels.service]: service }, all: true });
  const c = all.find((x) => x.labels[Labels.replica] === String(index) && x.labels[Labels.rollout] === undefined) ?? all.find((x) => x.labels[Labels.replica] === String(index));
  if (!c) {
    throw new CmeshError('CMESH_E_SERVICE_NOT_FOUND', `no replica ${service}-${index} in project "${ctx.project}"`, {
      hint: `\`cmesh ps ${service}\` lists its replicas; \`cmesh up ${service}\` starts it`,
      details: { service, index },
    });
  }
  if (running && c.state !== 'running') {
    throw new CmeshError('CMESH_E_USAGE', `${c.name} is ${c.state}, not running`, {
      hint: `\`cmesh start ${service}\` starts it; \`cmesh run ${service} …\` runs a one-off container instead`,
      details: { service, index, state: c.state },
    });
  }
  return c;
}

const STOPPED: ContainerState[] = ['created', 'exited', 'dead'];

/** The service a container belongs to, replica or one-off. */
const serviceOf = (c: ContainerInfo): string | undefined => c.labels[Labels.service] ?? (isOneOff(c) ? c.labels[Labels.oneoffService] : undefined);

/**
 * `cmesh rm`: the stopped containers of the services (replicas and one-offs), or with `includeRunning` (a dry run of
 * `rm -s`) the running ones too. The east-west gateway has no service and is never chosen.
 */
export async function removableContainers(ctx: VerbContext, services: string[], includeRunning: boolean): Promise<ContainerInfo[]> {
  const all = await ctx.engine.listContainers({ labels: projectLabels(ctx.project), all: true });
  return all
    .filter((c) => {
      const service = serviceOf(c);
      return service !== undefined && (services.length === 0 || services.includes(service));
    })
    .filter((c) => includeRunning || STOPPED.includes(c.state))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export async function removeStopped(ctx: VerbContext, request: RmRequest): Promise<ContainersResult> {
  const chosen = await removableContainers(ctx, request.services, request.dryRun && request.stop);
  if (request.dryRun) return { containers: chosen.map((c) => c.name) };
  await Promise.all(chosen.map((c) => ctx.engine.removeContainer(c.id, { volumes: request.volumes })));
  await ctx.reconcileNow();
  return { containers: chosen.map((c) => c.name) };
}

export interface OneOffRunContext {
  verbs: VerbContext;
  /** `up` of the dependencies, serialized like any up of the project. */
  up(request: UpRequest): Promise<unknown>;
  emit(event: DaemonEvent): void;
  pullTimes: PullTimes;
  filesDir: string | undefined;
}

/**
 * `cmesh run`: the service's dependencies come up first, as `up` of them waiting for their depends_on conditions
 * (Compose's run does the same), then the one-off is created from the file the CLI sent.
 */
export async function runOneOff(ctx: OneOffRunContext, request: RunRequest, signal?: AbortSignal): Promise<RunResult> {
  if (request.project.name !== ctx.verbs.project) {
    throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', `run request: project.name is "${request.project.name}", not "${ctx.verbs.project}"`);
  }
  assertServices(request.project, [request.service]);
  const auth = request.dockerConfig ? { dockerConfig: request.dockerConfig } : {};
  const deps = request.noDeps ? [] : Object.keys(request.project.services[request.service]!.dependsOn);
  if (deps.length > 0) await ctx.up({ project: request.project, services: deps, build: 'auto', wait: true, ...auth });
  const built = await ensureImages({
    ...(signal ? { signal } : {}),
    engine: ctx.verbs.engine,
    project: request.project,
    services: [request.service],
    build: request.build ?? 'auto',
    emit: ctx.emit,
    pullTimes: ctx.pullTimes,
    ...(request.dockerConfig ? { auth: { configDir: request.dockerConfig } } : {}),
  });
  return createOneOff(ctx.verbs, await withFileGrants(ctx.filesDir, built), request);
}
