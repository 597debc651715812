// Per-replica control routes (kill, drain) used by `cmesh dash`: validate the body, find the replica, act.

import type { DrainRequest, ReplicaRequest, ReplicaStatus } from '../api/control.ts';
import { CmeshError } from '../api/errors.ts';
import type { ProjectManager } from '../projects.ts';

export function replicaBody(body: Record<string, unknown>, action: string): ReplicaRequest {
  const { service, replica } = body;
  if (typeof service !== 'string' || typeof replica !== 'number' || !Number.isInteger(replica) || replica < 1) {
    throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', `${action} needs \`service\` (name) and \`replica\` (number ≥ 1)`);
  }
  return { service, replica };
}

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

/** SIGKILL, not stop: the point is to exercise the supervisor's replacement path. */
export async function killReplica(manager: ProjectManager, project: string, ref: ReplicaRequest): Promise<{ killed: string }> {
  const row = await findReplica(manager, project, ref);
  await manager.engine.killContainer(row.container, 'SIGKILL');
  return { killed: row.name };
}

export async function drainReplica(
  manager: ProjectManager,
  project: string,
  body: Record<string, unknown>,
  setDraining: ((project: string, ref: ReplicaRequest, drained: boolean) => void) | undefined,
): Promise<DrainRequest> {
  const ref = replicaBody(body, 'drain');
  if (typeof body['drained'] !== 'boolean') throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', 'drain needs `drained`: true or false');
  if (!setDraining) throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', 'this daemon has no mesh to drain replicas from');
  await findReplica(manager, project, ref);
  setDraining(project, ref, body['drained']);
  return { ...ref, drained: body['drained'] };
}
