// Observation: one full list of a project's engine objects by label, grouped so plan() can compare it with desired.

import type { ContainerEngine, ContainerInfo, NetworkInfo, VolumeInfo } from '../api/engine.ts';
import { isGateway, isOneOff, isPendingNext, Labels, projectLabels, replicaOf } from '../api/labels.ts';
import type { ProjectSpec } from '../api/project.ts';
import { imageRef } from './container-spec.ts';

export interface ObservedProject {
  project: string;
  /** service → replica index → containers; more than one container per index means duplicates to clean up. */
  services: Record<string, Record<number, ContainerInfo[]>>;
  /** Same shape: new containers of a start-first rollout not promoted yet (left by a crash mid-rollout). */
  next: Record<string, Record<number, ContainerInfo[]>>;
  /** Ours, but for a service the desired state does not know, or with an unreadable replica label. */
  orphans: ContainerInfo[];
  /** `cmesh run` containers (label dev.cmesh.oneoff): never replicas, never orphans; only `down` removes them. */
  oneoffs?: ContainerInfo[];
  /** The project's east-west gateway container(s) (label dev.cmesh.role=gateway); absent in hand-built observations. */
  gateway?: ContainerInfo[];
  /**
   * The daemon's shared gateway as inspected (not the project's: it has no project label), when there is one: the
   * project joins it, or leaves the networks it is on (daemon/gateway-shared.ts).
   */
  shared?: ContainerInfo;
  networks: NetworkInfo[];
  volumes: VolumeInfo[];
}

/** Pure grouping, shared by observe() and the golden cases. */
export function groupObserved(
  project: string,
  containers: readonly ContainerInfo[],
  knownServices: Iterable<string>,
  networks: NetworkInfo[] = [],
  volumes: VolumeInfo[] = [],
): ObservedProject {
  const known = new Set(knownServices);
  const services: ObservedProject['services'] = {};
  const next: ObservedProject['next'] = {};
  const orphans: ContainerInfo[] = [];
  const gateway: ContainerInfo[] = [];
  const oneoffs: ContainerInfo[] = [];
  for (const c of containers) {
    // The engine filter already matched the project; re-check so a sloppy engine adapter cannot leak strangers in.
    if (c.labels[Labels.project] !== project) continue;
    if (isGateway(c)) {
      gateway.push(c);
      continue;
    }
    if (isOneOff(c)) {
      oneoffs.push(c);
      continue;
    }
    const service = c.labels[Labels.service];
    const replica = replicaOf(c.labels);
    if (service === undefined || replica === undefined || !known.has(service)) {
      orphans.push(c);
      continue;
    }
    const into = isPendingNext(c) ? next : services;
    const byIndex = into[service] ?? {};
    into[service] = byIndex;
    byIndex[replica] = [...(byIndex[replica] ?? []), c];
  }
  return { project, services, next, orphans, networks, volumes, gateway, oneoffs };
}

/**
 * Lists everything labelled for the project. Each list is complete or throws: a partial answer must never look like
 * absence (a missing container would be recreated, a missing network re-created on top of a live one).
 */
export async function observe(
  engine: ContainerEngine,
  project: string,
  knownServices: Iterable<string>,
): Promise<ObservedProject> {
  const labels = projectLabels(project);
  const [listed, networks, volumes] = await Promise.all([
    engine.listContainers({ labels, all: true }),
    engine.listNetworks(labels),
    engine.listVolumes(labels),
  ]);
  const inspections = gatewayInspections(engine, project);
  const containers = await Promise.all(listed.map((c) => (isGateway(c) ? inspections.withAliases(c) : withExitDetails(engine, c))));
  inspections.done();
  return groupObserved(project, containers, knownServices, networks, volumes);
}

/**
 * The engine's list answer has no finishedAt or exit code, and restart backoff is timed from the exit: without them a
 * crashed replica would look freshly exited on every pass and never be restarted. Only stopped containers are
 * inspected, so a healthy project costs no extra calls. A container gone between list and inspect keeps its list form.
 */
async function withExitDetails(engine: ContainerEngine, c: ContainerInfo): Promise<ContainerInfo> {
  if (c.state !== 'exited' && c.state !== 'dead') return c;
  if (c.finishedAt !== undefined && c.exitCode !== undefined) return c;
  const full = await engine.inspectContainer(c.id);
  return full ?? c;
}

/** A gateway's last inspection, what the list said of it then, and when. */
type Inspection = { key: string; full: ContainerInfo; at: number };

/** An inspection older than this is made again: a change the list cannot show (a network left and joined again with
 * other aliases by hand, between two passes) is still seen within a minute. */
const INSPECTION_MAX_AGE_MS = 60_000;

/** Per engine, per project: the gateways' last inspections (only those the last list still showed). */
const inspected = new WeakMap<ContainerEngine, Map<string, Map<string, Inspection>>>();

/**
 * What the list says of a gateway that can change its aliases: the container (a new one for new names on a network it
 * is on, plan-gateway.ts), its state, and its networks (the planner joins and leaves them live). Undefined where the list
 * names no networks: then nothing tells a change, and it is inspected every time.
 */
function listKey(c: ContainerInfo): string | undefined {
  // The name too: a start-first replacement renames the new gateway over the old one's name.
  return c.networks && `${c.id}\0${c.name}\0${c.state}\0${c.networks.map((n) => n.name).sort().join('\0')}`;
}

/**
 * The planner compares the aliases a gateway carries on each network with the wanted ones, and only inspect has them.
 * A gateway is inspected when the list shows it changed (listKey), else its last inspection is reused: a pass of an
 * unchanged meshed project costs no inspect. Gone since the list: its list form.
 */
function gatewayInspections(engine: ContainerEngine, project: string, now = Date.now()) {
  const byProject = inspected.get(engine) ?? new Map<string, Map<string, Inspection>>();
  inspected.set(engine, byProject);
  const last = byProject.get(project);
  const next = new Map<string, Inspection>();
  return {
    async withAliases(c: ContainerInfo): Promise<ContainerInfo> {
      const key = listKey(c);
      const hit = last?.get(c.id);
      if (key !== undefined && hit?.key === key && now - hit.at < INSPECTION_MAX_AGE_MS) {
        next.set(c.id, hit);
        return { ...hit.full, state: c.state, health: c.health };
      }
      const full = await engine.inspectContainer(c.id);
      if (full && key !== undefined) next.set(c.id, { key, full, at: now });
      return full ?? c;
    },
    /** Keeps only the gateways this list showed. */
    done(): void {
      if (next.size > 0) byProject.set(project, next);
      else byProject.delete(project);
    },
  };
}

/**
 * Local image ids of built services, so a rebuild under the same tag changes the spec hash. Images that are not there
 * are left out: creating the container will then fail with CMESH_E_IMAGE_MISSING, which is the honest answer.
 */
export async function observeImageIds(engine: ContainerEngine, project: ProjectSpec): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  const built = Object.values(project.services).filter((s) => s.build !== undefined);
  await Promise.all(
    built.map(async (s) => {
      const image = await engine.inspectImage(imageRef(project, s));
      if (image) ids[s.name] = image.id;
    }),
  );
  return ids;
}

/** Every container of the observation, in a stable order. */
export function allContainers(observed: ObservedProject): ContainerInfo[] {
  const out: ContainerInfo[] = [];
  for (const group of [observed.services, observed.next]) {
    for (const byIndex of Object.values(group)) for (const list of Object.values(byIndex)) out.push(...list);
  }
  out.push(...observed.orphans, ...(observed.gateway ?? []));
  return out.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}
