// Per-replica control routes (kill, drain) used by `cmesh dash`: find the replica (the router checked the body), act.

import type { DrainRequest, KillReplicaResult, ReplicaRequest, ReplicaStatus } from '../api/control.ts';
import { CmeshError } from '../api/errors.ts';
import type { ProjectManager } from '../projects.ts';

async function findReplica(manager: ProjectManager, project: string, ref: ReplicaRequest): Promise<ReplicaStatus> {
  const rows = await manager.ps(project, true, [ref.service]);
  const matches = rows.filter((r) => r.service === ref.service && r.replica === ref.replica);
  const row = matches.find((r) => r.state === 'running') ?? matches[0];
  if (!row) {
    throw new CmeshError('CMESH_E_SERVICE_NOT_FOUND', `no replica ${ref.service}-${ref.replica} in project "${project}"`, {
      hint: `\`cmesh ps\` lists the replicas of ${project}`,
    });
  }
  return row;
}

/** SIGKILL, not stop: the point is to exercise the replacement path (the supervisor's, or Swarm's on that target). */
export async function killReplica(manager: ProjectManager, project: string, ref: ReplicaRequest): Promise<KillReplicaResult> {
  const row = await findReplica(manager, project, ref);
  await manager.engine.killContainer(row.container, 'SIGKILL');
  return { killed: row.name, replacedBy: manager.targetOf(project) === 'swarm' ? 'swarm' : 'supervisor' };
}

export async function drainReplica(
  manager: ProjectManager,
  project: string,
  request: DrainRequest,
  setDraining: ((project: string, ref: ReplicaRequest, drained: boolean) => void) | undefined,
): Promise<DrainRequest> {
  if (!setDraining) throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', 'this daemon has no mesh to drain replicas from');
  const ref = { service: request.service, replica: request.replica };
  await findReplica(manager, project, ref);
  setDraining(project, ref, request.drained);
  return { ...ref, drained: request.drained };
}
