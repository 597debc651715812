// The Compose verbs that act on a project's replicas as they are: pause, unpause, kill, port, top, images. The manager
// (projects.ts) serializes them and owns desired state; this file picks the containers and talks to the engine.

import { constants } from 'node:os';
import type {
  ContainerImage,
  ContainersResult,
  KillRequest,
  KillResult,
  PortRequest,
  PortResult,
  ReplicaProcesses,
} from './api/control.ts';
import { bindAddress } from './api/bind-address.ts';
import type { ContainerEngine, ContainerInfo, ContainerState } from './api/engine.ts';
import { CmeshError } from './api/errors.ts';
import { Labels, projectLabels } from './api/labels.ts';
import type { PublishedMapping } from './bound-ports.ts';
import type { ProjectSpec } from './api/project.ts';

export interface VerbContext {
  engine: ContainerEngine;
  project: string;
  /** Runs one reconcile pass, so the mesh sees a pause or a kill before the verb answers. */
  reconcileNow(): Promise<unknown>;
  /** The project's replicas when they are not the engine's labelled containers (the swarm target's tasks on this node). */
  containers?: () => Promise<ContainerInfo[]>;
  /** Resolves `--index` of exec/cp when replicas are not the engine's labelled containers (the swarm target's tasks). */
  replica?: (service: string, index: number, running: boolean) => Promise<ContainerInfo>;
  /** The target replaces a killed replica by itself (Swarm): a kill is only delivered, never a stop. */
  replacesKilled?: true;
}

const serviceOf = (c: ContainerInfo): string => c.labels[Labels.service] ?? '';
const replicaOf = (c: ContainerInfo): number => Number(c.labels[Labels.replica] ?? 0);
const byReplica = (a: ContainerInfo, b: ContainerInfo): number => serviceOf(a).localeCompare(serviceOf(b)) || replicaOf(a) - replicaOf(b);

/**
 * The replicas of `services` (all when empty), optionally only those in `states`. Only containers with a service label:
 * the east-west gateway is cmesh's, not the user's, and no verb here pauses or kills it.
 */
export async function serviceContainers(ctx: VerbContext, services: string[], states?: ContainerState[]): Promise<ContainerInfo[]> {
  const all = ctx.containers ? await ctx.containers() : await ctx.engine.listContainers({ labels: projectLabels(ctx.project), all: true });
  return all
    .filter((c) => serviceOf(c) !== '' && (services.length === 0 || services.includes(serviceOf(c))))
    .filter((c) => !states || states.includes(c.state))
    .sort(byReplica);
}

/**
 * `pause` freezes running replicas, `unpause` thaws paused ones. The planner leaves a paused replica alone (no heal);
 * the pass run afterwards hands the new state to the mesh, whose pool routes only to running replicas.
 */
export async function setPaused(ctx: VerbContext, services: string[], paused: boolean): Promise<ContainersResult> {
  const chosen = await serviceContainers(ctx, services, [paused ? 'running' : 'paused']);
  await Promise.all(chosen.map((c) => (paused ? ctx.engine.pauseContainer(c.id) : ctx.engine.unpauseContainer(c.id))));
  await ctx.reconcileNow();
  return { containers: chosen.map((c) => c.name) };
}

/** `SIGHUP`, `hup` and `1` all name SIGHUP; a number Node does not name (real-time signals) is sent as is. */
export function canonicalSignal(raw: string): string {
  const text = raw.trim().toUpperCase();
  const signals = constants.signals as Record<string, number>;
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    const named = Object.keys(signals).find((k) => signals[k] === n);
    if (n >= 1 && n <= 64) return named ?? String(n);
  }
  const name = text.startsWith('SIG') ? text : `SIG${text}`;
  if (signals[name] !== undefined) return name;
  throw new CmeshError('CMESH_E_USAGE', `unknown signal "${raw}"`, { hint: 'use a name like SIGHUP, SIGUSR1, SIGTERM or a number' });
}

/** A kill the user means as "stop it" (cmesh keeps it stopped); any other signal is only delivered. */
export function killStops(signal: string): boolean {
  return signal === 'SIGKILL' || signal === 'SIGTERM';
}

/** Delivers the signal to every running replica; the caller marked the services stopped first when killStops. */
export async function killReplicas(ctx: VerbContext, request: KillRequest, signal: string): Promise<KillResult> {
  const chosen = await serviceContainers(ctx, request.services, ['running']);
  await Promise.all(chosen.map((c) => ctx.engine.killContainer(c.id, signal)));
  await ctx.reconcileNow();
  return { containers: chosen.map((c) => c.name), signal, stopped: killStops(signal) && !ctx.replacesKilled };
}

/**
 * What a user connects to: the mesh's address for a published port, TCP or UDP (every replica is behind it), else the
 * replica's own engine-assigned 127.0.0.1 port. A host range (`80-90:8080`) answers the port its listener took
 * (`bound`, from the mesh), as `docker compose port` answers the engine's pick.
 */
export async function publicPort(ctx: VerbContext, spec: ProjectSpec, request: PortRequest, bound?: (m: PublishedMapping) => number): Promise<PortResult> {
  const svc = spec.services[request.service]!;
  const mapping = svc.ports.find((p) => p.target === request.privatePort && p.protocol === request.protocol);
  if (mapping?.published !== undefined) {
    const host = bindAddress(mapping, svc.mesh);
    const published = { service: svc.name, host, target: mapping.target, protocol: mapping.protocol, published: mapping.published };
    return { host, port: bound?.(published) ?? mapping.published, via: 'mesh' };
  }
  const known = mapping !== undefined || (request.protocol === 'tcp' && svc.expose.includes(request.privatePort));
  const replicas = await serviceContainers(ctx, [request.service]);
  const replica = replicas.find((c) => replicaOf(c) === request.index && c.state === 'running') ?? replicas.find((c) => replicaOf(c) === request.index);
  if (!replica) {
    throw new CmeshError('CMESH_E_SERVICE_NOT_FOUND', `no replica ${request.service}-${request.index} in project "${ctx.project}"`, {
      hint: `\`cmesh ps ${request.service}\` lists its replicas`,
    });
  }
  const endpoint = replica.endpoints.find((e) => e.containerPort === request.privatePort && e.protocol === request.protocol);
  if (!endpoint) {
    const ports = [...svc.ports.map((p) => `${p.target}/${p.protocol}`), ...svc.expose.map((p) => `${p}/tcp`)].join(', ') || 'none';
    throw new CmeshError('CMESH_E_USAGE', `no port ${request.privatePort}/${request.protocol} for ${replica.name}`, {
      hint: known ? `${replica.name} is ${replica.state}: \`cmesh start ${request.service}\`` : `${request.service} publishes or exposes: ${ports}`,
    });
  }
  return { host: endpoint.host, port: endpoint.hostPort, via: 'replica' };
}

/** `docker top` of every running replica; paused ones answer too (their processes exist, frozen). */
export async function topReplicas(ctx: VerbContext, services: string[]): Promise<ReplicaProcesses[]> {
  const chosen = await serviceContainers(ctx, services, ['running', 'paused']);
  return Promise.all(
    chosen.map(async (c) => ({
      service: serviceOf(c),
      replica: replicaOf(c),
      name: c.name,
      container: c.id,
      ...(await ctx.engine.topContainer(c.id)),
    })),
  );
}

/** `repo:tag` split at the last colon after the last slash (`host:5000/app` has no tag). */
function splitRef(ref: string): { repository: string; tag: string } {
  const at = ref.lastIndexOf(':');
  if (at <= ref.lastIndexOf('/')) return { repository: ref, tag: 'latest' };
  return { repository: ref.slice(0, at), tag: ref.slice(at + 1) };
}

/** The image each container of the project runs (created and stopped ones too, like Compose). */
export async function containerImages(ctx: VerbContext, services: string[]): Promise<ContainerImage[]> {
  const chosen = await serviceContainers(ctx, services);
  const cache = new Map<string, ReturnType<ContainerEngine['inspectImage']>>();
  const inspect = (ref: string) => {
    const hit = cache.get(ref) ?? ctx.engine.inspectImage(ref);
    cache.set(ref, hit);
    return hit;
  };
  return Promise.all(
    chosen.map(async (c) => {
      const image = await inspect(c.imageId ?? c.image);
      // A container created from an id shows the image's first tag, like Compose.
      const ref = c.image.startsWith('sha256:') ? (image?.tags[0] ?? '<none>:<none>') : c.image;
      return {
        container: c.name,
        service: serviceOf(c),
        ...splitRef(ref),
        id: image?.id ?? c.imageId ?? '',
        ...(image?.size === undefined ? {} : { size: image.size }),
      };
    }),
  );
}
