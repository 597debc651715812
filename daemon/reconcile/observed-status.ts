// The replicas a pass last observed, as `ps` and `dash` show them: cmesh's restart count added to the engine's.

import type { ReplicaStatus } from '../api/control.ts';
import { replicaOf } from '../api/labels.ts';
import { allContainers, type ObservedProject } from './observe.ts';
import { replicaKey, type Supervisor } from './supervisor.ts';

export function observedStatus(project: string, observed: ObservedProject | undefined, supervisor: Supervisor): ReplicaStatus[] {
  if (!observed) return [];
  return allContainers(observed).flatMap((c) => {
    const service = c.labels['dev.cmesh.service'];
    const replica = replicaOf(c.labels);
    if (service === undefined || replica === undefined) return [];
    const row: ReplicaStatus = {
      project,
      service,
      replica,
      container: c.id,
      name: c.name,
      state: c.state,
      health: c.health,
      ...(c.engineHealth === undefined ? {} : { engineHealth: c.engineHealth }),
      endpoints: c.endpoints,
      restarts: supervisor.restarts(replicaKey(service, replica)) + c.restartCount,
      image: c.image,
      createdAt: c.createdAt,
      ...(c.startedAt === undefined ? {} : { startedAt: c.startedAt }),
      ...(c.exitCode === undefined ? {} : { exitCode: c.exitCode }),
    };
    return [row];
  });
}
