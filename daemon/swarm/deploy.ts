// The swarm target's verbs against the SwarmEngine: up converges networks, secrets/configs and services to the
// project (create or update, images by ID), down removes all of them, scale is an up of the replica counts.
// The decisions are translate.ts's; this module only resolves inputs, calls the engine, and retries bounded.

import { mkdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DesiredProject, desiredReplicas } from '../api/desired.ts';
import type { ContainerEngine } from '../api/engine.ts';
import { CmeshError } from '../api/errors.ts';
import { Labels, projectLabels } from '../api/labels.ts';
import type { ProjectSpec } from '../api/project.ts';
import { type SwarmEngine, type SwarmNetworkSpec, type SwarmStatus, swarmNotManager } from '../api/swarm-engine.ts';
import { bindsToCreate } from './mounts.ts';
import { updateService } from './update-service.ts';
import { eastWestWarning, type SwarmWarning, swarmNetworks, swarmObjects, swarmService, swarmWarnings, TARGET_LABEL } from './translate.ts';

export interface SwarmDeployContext {
  swarm: SwarmEngine;
  /** The same engine's container side: image IDs, task container health (single node). */
  engine: ContainerEngine;
  warn(w: SwarmWarning): void;
}

export interface SwarmUpResult {
  created: string[];
  updated: string[];
  unchanged: string[];
  removed: string[];
}

/** The swarm target needs an active manager; anything else fails before a single object is touched. */
export async function assertManager(swarm: SwarmEngine): Promise<SwarmStatus> {
  const s = await swarm.swarmStatus();
  if (s.state !== 'active' || !s.manager) {
    throw swarmNotManager(s.state === 'active' ? 'it is a swarm worker' : `its swarm state is "${s.state}"`, { state: s.state });
  }
  return s;
}

/**
 * Images exist only on this engine: other nodes could not run a task of them (an ID is not pullable). Until
 * registry pushes land (docs/swarm.md), a swarm of several nodes is refused before anything is deployed.
 */
export function assertSingleNode(status: SwarmStatus, project: ProjectSpec, services: string[]): void {
  if ((status.nodes ?? 1) <= 1 || project.registry !== undefined) return;
  const images = services.map((s) => {
    const spec = project.services[s];
    return `${s} (${spec?.image ?? (spec?.build ? `built from ${spec.build.context}` : '?')})`;
  });
  throw new CmeshError('CMESH_E_SWARM_MULTI_NODE', `this swarm has ${status.nodes} nodes, and the other nodes could not get these local images: ${images.join(', ')}`, {
    hint: 'set `x-cmesh.registry` (or `up --registry`) to a registry every node can pull from: cmesh pushes the images there and deploys them by digest',
    details: { nodes: status.nodes, images },
  });
}

/** A service's replica count on the swarm: 0 while `cmesh stop` holds it (its count is kept for `start`). */
export function swarmReplicas(desired: DesiredProject, service: string): number {
  return desired.stopped.includes(service) ? 0 : desiredReplicas(desired, service);
}

/** Labels selecting everything of one project on the swarm target. */
export function swarmProjectLabels(project: string): Record<string, string> {
  return { ...projectLabels(project), [TARGET_LABEL]: 'swarm' };
}

/**
 * Creates the overlay; a name conflict with our own overlay that the node does not list yet (it lags the manager
 * for a moment after a create) is adoption, anything else stays a conflict.
 */
async function createOverlay(swarm: SwarmEngine, spec: SwarmNetworkSpec, labels: Record<string, string>): Promise<void> {
  try {
    await swarm.createNetwork(spec);
  } catch (err) {
    if (!(err instanceof CmeshError && err.code === 'CMESH_E_NAME_CONFLICT')) throw err;
    for (let i = 0; i < 20; i++) {
      if ((await swarm.listNetworks(labels)).some((n) => n.name === spec.name)) return;
      await sleep(250);
    }
    throw err;
  }
}

/** `sha256:…` per service: Swarm would try a registry pull of a tag at every task start, an ID it runs as is. */
async function imageIds(engine: ContainerEngine, project: ProjectSpec, services: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of services) {
    const ref = project.services[name]?.image;
    const info = ref === undefined ? undefined : await engine.inspectImage(ref);
    if (!info?.id.startsWith('sha256:')) {
      throw new CmeshError('CMESH_E_IMAGE_MISSING', `service ${name}: image "${ref ?? '(none)'}" is not present on this engine, so it has no ID to deploy`, {
        hint: 'build or pull it first (`cmesh up` builds missing images); the swarm target deploys images by ID, never by tag',
        details: { service: name, ...(ref ? { image: ref } : {}) },
      });
    }
    out[name] = info.id;
  }
  return out;
}

/**
 * With a registry: each image goes to `<registry>/<project>/<service>:<short id>` and is deployed as `repo@digest`,
 * which any node can pull and which never moves (a local node finds it by digest and does not pull).
 */
async function pushImages(swarm: SwarmEngine, project: ProjectSpec, ids: Record<string, string>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [service, id] of Object.entries(ids)) {
    const repo = `${project.registry}/${project.name}/${service}`.toLowerCase();
    out[service] = `${repo}@${await swarm.pushImage(id, repo, id.slice('sha256:'.length, 'sha256:'.length + 12))}`;
  }
  return out;
}

async function objectContents(project: ProjectSpec): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const [kind, map] of [['secret', project.secrets], ['config', project.configs]] as const) {
    for (const [key, src] of Object.entries(map ?? {})) {
      out[`${kind}:${key}`] = src.file !== undefined ? await readFile(src.file) : Buffer.from(src.content ?? '');
    }
  }
  return out;
}

export async function swarmUp(ctx: SwarmDeployContext, desired: DesiredProject, services: string[]): Promise<SwarmUpResult> {
  const { swarm } = ctx;
  const project = desired.project;
  assertSingleNode(await assertManager(swarm), project, services);
  for (const w of [...swarmWarnings(project, services), eastWestWarning(project, services)]) if (w) ctx.warn(w);
  // Compose creates a missing bind source, Swarm fails the task instead: create them here, on this node.
  for (const name of services) for (const path of bindsToCreate(project.services[name]!)) await mkdir(path, { recursive: true });
  const ids = await imageIds(ctx.engine, project, services);
  if (project.registry !== undefined) Object.assign(ids, await pushImages(swarm, project, ids));
  const labels = swarmProjectLabels(project.name);

  const haveNets = new Set((await swarm.listNetworks(labels)).map((n) => n.name));
  for (const n of swarmNetworks(project)) if (!haveNets.has(n.name)) await createOverlay(swarm, n, labels);

  const contents = await objectContents(project);
  const objects = swarmObjects(project, contents);
  const objectIds: Record<string, string> = {};
  for (const kind of ['secret', 'config'] as const) {
    const have = new Map((await swarm.listObjects(kind, labels)).map((o) => [o.name, o.id]));
    for (const o of objects.filter((x) => x.kind === kind)) {
      const id = have.get(o.name) ?? (await swarm.createObject(kind, { name: o.name, labels: o.labels, data: contents[`${kind}:${o.key}`]! })).id;
      objectIds[`${kind}:${o.key}`] = id;
    }
  }

  const result: SwarmUpResult = { created: [], updated: [], unchanged: [], removed: [] };
  const existing = new Map((await swarm.listServices(labels)).map((s) => [s.spec.Labels[Labels.service] ?? '', s]));
  for (const name of services) {
    const spec = swarmService(project, project.services[name]!, { imageId: ids[name]!, replicas: swarmReplicas(desired, name), objectIds }, objects);
    const have = existing.get(name);
    if (!have) {
      await swarm.createService(spec);
      result.created.push(name);
    } else {
      const sent = await updateService(swarm, have, (current) => {
        if (current.spec.Labels[Labels.specHash] === spec.Labels[Labels.specHash] && current.spec.Mode.Replicated?.Replicas === spec.Mode.Replicated.Replicas) return undefined;
        // Keep the restart counter: a lower ForceUpdate is a change too, and would restart the tasks once more.
        const force = current.spec.TaskTemplate.ForceUpdate;
        return force === undefined ? spec : { ...spec, TaskTemplate: { ...spec.TaskTemplate, ForceUpdate: force } };
      });
      (sent ? result.updated : result.unchanged).push(name);
    }
  }
  // A full `up` owns the whole project: services gone from the file go too (a partial `up svc` never removes).
  if (desired.selected.length === 0) {
    for (const [name, s] of existing) {
      if (project.services[name]) continue;
      await swarm.removeService(s.id);
      result.removed.push(name);
    }
  }
  await pruneObjects(swarm, project.name, new Set(objects.map((o) => o.name)));
  return result;
}

/**
 * `cmesh restart` on swarm: bumps each service's ForceUpdate, so Swarm replaces every task by its UpdateConfig
 * (start-first, one at a time unless max_surge says more). Returns the running containers it replaces.
 */
export async function swarmRestart(swarm: SwarmEngine, project: string, services: string[]): Promise<string[]> {
  const existing = (await swarm.listServices(swarmProjectLabels(project))).filter((s) => services.includes(s.spec.Labels[Labels.service] ?? ''));
  const tasks = await swarm.listTasks(swarmProjectLabels(project));
  for (const s of existing) {
    // Counted from the spec read last: a retry after "out of sequence" must not bump the counter twice.
    await updateService(swarm, s, (current) => {
      const spec = structuredClone(current.spec);
      spec.TaskTemplate.ForceUpdate = (spec.TaskTemplate.ForceUpdate ?? 0) + 1;
      return spec;
    });
  }
  const ids = new Set(existing.map((s) => s.id));
  return tasks.filter((t) => ids.has(t.serviceId) && t.desiredState === 'running' && t.containerId).map((t) => t.containerId!);
}

/** Secrets/configs of older contents, once no service holds them (an in-use one waits for the next up). */
async function pruneObjects(swarm: SwarmEngine, project: string, keep: Set<string>): Promise<void> {
  for (const kind of ['secret', 'config'] as const) {
    for (const o of await swarm.listObjects(kind, swarmProjectLabels(project))) {
      if (keep.has(o.name)) continue;
      await swarm.removeObject(kind, o.id).catch((err: unknown) => {
        if (!(err instanceof CmeshError && err.details['reason'] === 'in-use')) throw err;
      });
    }
  }
}

export interface SwarmDownResult {
  services: string[];
  networks: string[];
  secrets: string[];
  configs: string[];
  /** Removed with `down -v` only. */
  volumes: string[];
}

/**
 * Removes the project's services, then (once their task containers are gone, bounded) its secrets, configs,
 * volumes on this node (with `volumesOf`, for `down -v`) and networks. Idempotent: a second down finds nothing and says so with empty lists.
 */
export async function swarmDown(swarm: SwarmEngine, project: string, volumesOf?: ContainerEngine, settleMs = 60_000): Promise<SwarmDownResult> {
  const labels = swarmProjectLabels(project);
  const out: SwarmDownResult = { services: [], networks: [], secrets: [], configs: [], volumes: [] };
  for (const s of await swarm.listServices(labels)) {
    await swarm.removeService(s.id);
    out.services.push(s.spec.Labels[Labels.service] ?? s.spec.Name);
  }
  const deadline = Date.now() + settleMs;
  // Task containers leave asynchronously: an object or network still in use is retried until the deadline.
  const retrying = async (remove: () => Promise<void>): Promise<void> => {
    for (;;) {
      try {
        return await remove();
      } catch (err) {
        const inUse = err instanceof CmeshError && (['in-use', 'active-endpoints'].includes(String(err.details['reason'])) || err.details['status'] === 409);
        if (!inUse || Date.now() > deadline) throw err;
        await sleep(250);
      }
    }
  };
  for (const kind of ['secret', 'config'] as const) {
    for (const o of await swarm.listObjects(kind, labels)) {
      await retrying(() => swarm.removeObject(kind, o.id));
      out[kind === 'secret' ? 'secrets' : 'configs'].push(o.name);
    }
  }
  // `down -v`: the named volumes Swarm created for the tasks on this node (other nodes keep theirs: docs/swarm.md).
  for (const v of volumesOf ? await volumesOf.listVolumes(projectLabels(project)) : []) {
    await retrying(() => volumesOf!.removeVolume(v.name));
    out.volumes.push(v.name);
  }
  for (const n of await swarm.listNetworks(labels)) {
    await retrying(() => swarm.removeNetwork(n.id));
    out.networks.push(n.name);
  }
  // The manager answers the remove before the node lets go of an overlay: down returns once the engine lists none.
  while ((await swarm.listNetworks(labels)).length > 0 && Date.now() < deadline) await sleep(250);
  return out;
}
