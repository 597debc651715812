// Read models for `ps` and `ls`, built from a fresh engine list (the engine is the truth) plus desired state.

import type { ProjectSummary, ReplicaStatus } from './api/control.ts';
import type { DesiredProject } from './api/desired.ts';
import type { ContainerEngine, ContainerInfo } from './api/engine.ts';
import { CmeshError } from './api/errors.ts';
import { isGateway, isOneOff, Labels, projectLabels, replicaOf } from './api/labels.ts';

export function replicaStatus(c: ContainerInfo, supervised?: ReplicaStatus): ReplicaStatus {
  const status: ReplicaStatus = {
    project: c.labels[Labels.project] ?? '',
    service: c.labels[Labels.service] ?? '',
    replica: replicaOf(c.labels) ?? 0,
    container: c.id,
    name: c.name,
    state: c.state,
    health: c.health,
    endpoints: c.endpoints,
    // The loop's count already includes the engine's; fall back to the engine's alone when the loop has not seen it.
    restarts: supervised?.restarts ?? c.restartCount,
    image: c.image,
    createdAt: c.createdAt,
  };
  if (c.startedAt !== undefined) status.startedAt = c.startedAt;
  if (c.exitCode !== undefined) status.exitCode = c.exitCode;
  // The loop saw cmesh's start probe pass on this very start while Docker still has not run its first check.
  const probed = supervised?.engineHealth !== undefined && supervised.startedAt === c.startedAt && c.state === 'running';
  if (probed && c.health === 'starting') {
    status.health = supervised.health;
    status.engineHealth = c.health;
  }
  return status;
}

export function sortReplicas(rows: ReplicaStatus[]): ReplicaStatus[] {
  return rows.sort(
    (a, b) => a.service.localeCompare(b.service) || a.replica - b.replica || a.container.localeCompare(b.container),
  );
}

/** `ps` rows: running ones (or all), of the chosen services, with the loop's restart counts where it has them. */
export function replicaRows(
  containers: readonly ContainerInfo[],
  supervised: readonly ReplicaStatus[],
  options: { all: boolean; services: string[] },
): ReplicaStatus[] {
  const byId = new Map(supervised.map((r) => [r.container, r]));
  const rows = containers
    // `cmesh run` containers are not replicas (Compose's ps leaves them out too unless asked); the east-west gateways
    // are cmesh's own, shown by `cmesh services` (every meshed project has one: listing it would be noise).
    .filter((c) => !isOneOff(c) && !isGateway(c))
    .filter((c) => options.all || c.state === 'running' || c.state === 'restarting')
    .filter((c) => options.services.length === 0 || options.services.includes(c.labels[Labels.service] ?? ''))
    .map((c) => replicaStatus(c, byId.get(c.id)));
  return sortReplicas(rows);
}

/** A project without desired state still exists while the engine holds its containers or networks. */
/** True when the engine still holds containers or networks (and, with `volumes`, volumes) labelled as the project's. */
export async function projectHasObjects(engine: ContainerEngine, name: string, volumes = false): Promise<boolean> {
  const labels = projectLabels(name);
  const [containers, networks, vols] = await Promise.all([
    engine.listContainers({ labels, all: true }),
    engine.listNetworks(labels),
    volumes ? engine.listVolumes(labels) : [],
  ]);
  return containers.length > 0 || networks.length > 0 || vols.length > 0;
}

export async function assertProjectExists(engine: ContainerEngine, name: string): Promise<void> {
  if (await projectHasObjects(engine, name)) return;
  throw new CmeshError('CMESH_E_PROJECT_NOT_FOUND', `no project "${name}" is known to the daemon`, {
    hint: 'run `cmesh up` in the project directory first, or `cmesh ls` to see the projects that exist',
    details: { project: name },
  });
}

/** Compose-style status text, e.g. `running(3)` or `exited(1), running(2)`. */
function statusText(containers: ContainerInfo[], desired: DesiredProject | undefined): string {
  if (containers.length === 0) return desired ? 'created(0)' : 'unknown';
  const counts = new Map<string, number>();
  for (const c of containers) counts.set(c.state, (counts.get(c.state) ?? 0) + 1);
  const text = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}(${n})`).join(', ');
  return desired ? text : `${text}, no desired state`;
}

export function projectSummaries(
  containers: readonly ContainerInfo[],
  desired: ReadonlyMap<string, DesiredProject>,
): ProjectSummary[] {
  const byProject = new Map<string, ContainerInfo[]>();
  for (const name of desired.keys()) byProject.set(name, []);
  for (const c of containers) {
    const project = c.labels[Labels.project];
    // Gateways are cmesh's own (see replicaRows): `ls` counts the user's containers, as `ps` lists them.
    if (!project || isGateway(c)) continue;
    const list = byProject.get(project) ?? [];
    list.push(c);
    byProject.set(project, list);
  }
  return [...byProject]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, list]) => {
      const d = desired.get(name);
      const labelFiles = list.find((c) => c.labels[Labels.configFiles])?.labels[Labels.configFiles];
      const services = d
        ? Object.keys(d.project.services).length
        : new Set(list.map((c) => c.labels[Labels.service])).size;
      return {
        name,
        files: d?.project.files ?? (labelFiles ? labelFiles.split(',') : []),
        services,
        running: list.filter((c) => c.state === 'running').length,
        total: list.length,
        status: statusText(list, d),
      };
    });
}
