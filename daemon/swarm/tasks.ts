// Swarm tasks seen as replicas: `ps` rows and the mesh's pool members come from the task list, with each task's
// engine-chosen host-mode port as its endpoint and (on this node) its container's health.

import type { ContainerEngine, ContainerHealth, ContainerInfo, ContainerState } from '../api/engine.ts';
import { Labels } from '../api/labels.ts';
import type { SwarmEngine, SwarmTaskInfo, SwarmTaskState } from '../api/swarm-engine.ts';
import { swarmProjectLabels } from './deploy.ts';
import type { ListedTask } from './remote-task-events.ts';

const STATE: Record<SwarmTaskState, ContainerState> = {
  new: 'created',
  allocated: 'created',
  pending: 'created',
  assigned: 'created',
  accepted: 'created',
  preparing: 'created',
  ready: 'created',
  starting: 'created',
  running: 'running',
  complete: 'exited',
  shutdown: 'exited',
  failed: 'exited',
  rejected: 'dead',
  remove: 'removing',
  orphaned: 'dead',
};

/** A task as the replica rows and the mesh know replicas; the slot is the replica number. */
export function taskAsContainer(task: SwarmTaskInfo, service: string, health: ContainerHealth, serviceName: string): ContainerInfo {
  return {
    id: task.containerId ?? task.id,
    name: `${serviceName}.${task.slot}.${task.id}`,
    image: task.image,
    imageId: task.image,
    state: STATE[task.state] ?? 'created',
    health,
    labels: { ...task.labels, [Labels.service]: service, [Labels.replica]: String(task.slot) },
    createdAt: 0,
    restartCount: 0,
    // Host-mode task ports listen on every address; the proxy on this node dials them on loopback.
    endpoints: task.ports.map((p) => ({ containerPort: p.targetPort, protocol: p.protocol, host: '127.0.0.1', hostPort: p.publishedPort })),
  };
}

/** The project's tasks (every state) with their compose service and Swarm service name: one listing, several readers. */
export async function listProjectTasks(swarm: SwarmEngine, project: string): Promise<ListedTask[]> {
  const [tasks, services] = await Promise.all([swarm.listTasks(swarmProjectLabels(project)), swarm.listServices(swarmProjectLabels(project))]);
  const byId = new Map(services.map((s) => [s.id, s.spec]));
  const out: ListedTask[] = [];
  for (const task of tasks) {
    const spec = byId.get(task.serviceId);
    const service = spec?.Labels[Labels.service];
    if (spec && service !== undefined) out.push({ task, service, serviceName: spec.Name });
  }
  return out;
}

/**
 * A listing's tasks as containers: only those meant to run unless `all`, only `node`'s with one. Health comes from the
 * task's container when it runs on this engine (a single-node swarm); elsewhere it is 'none' and the mesh's own probes
 * decide.
 */
export async function listedAsContainers(listed: readonly ListedTask[], engine: ContainerEngine, all: boolean, node?: string): Promise<ContainerInfo[]> {
  const out: ContainerInfo[] = [];
  for (const { task: t, service, serviceName } of listed) {
    if ((!all && t.desiredState !== 'running') || (node !== undefined && t.nodeId !== node)) continue;
    const c = t.containerId && t.state === 'running' ? await engine.inspectContainer(t.containerId) : undefined;
    out.push(taskAsContainer(t, service, c?.health ?? 'none', serviceName));
  }
  return out;
}

/** The project's tasks as containers (see listedAsContainers). */
export async function taskContainers(swarm: SwarmEngine, engine: ContainerEngine, project: string, all: boolean, node?: string): Promise<ContainerInfo[]> {
  return listedAsContainers(await listProjectTasks(swarm, project), engine, all, node);
}
