// `exec` and `cp` on the swarm target: `--index N` names the task in slot N of the service, as a replica number does
// on the local target. The daemon talks to one engine, so only a task on that engine's node can be reached; a task
// on another node is an error that names the node (and how to reach it there).

import type { ContainerInfo } from '../api/engine.ts';
import { CmeshError } from '../api/errors.ts';
import { Labels } from '../api/labels.ts';
import type { SwarmEngine } from '../api/swarm-engine.ts';
import { swarmProjectLabels } from './deploy.ts';
import { taskAsContainer } from './tasks.ts';

/** The task container of `service` in slot `index` on this node; `running` (exec) also wants it running. */
export async function swarmTaskReplica(swarm: SwarmEngine, project: string, service: string, index: number, running: boolean): Promise<ContainerInfo> {
  const labels = { ...swarmProjectLabels(project), [Labels.service]: service };
  const [status, services, tasks] = await Promise.all([swarm.swarmStatus(), swarm.listServices(labels), swarm.listTasks(labels)]);
  const spec = services[0]?.spec;
  // During a start-first update the slot has an old and a new task: the running one first, like a local rollout.
  const inSlot = tasks
    .filter((t) => t.slot === index && t.desiredState === 'running')
    .sort((a, b) => Number(b.state === 'running') - Number(a.state === 'running'));
  const task = inSlot[0];
  const replica = `${service}-${index}`;
  if (!spec || !task) {
    throw new CmeshError('CMESH_E_SERVICE_NOT_FOUND', `no task ${replica} in swarm project "${project}"`, {
      hint: `\`cmesh ps ${service}\` lists its tasks (the replica number is the task's slot); \`cmesh scale ${service}=${index}\` adds slots`,
      details: { service, index },
    });
  }
  if (task.nodeId !== status.nodeId) {
    const node = await swarm.inspectNode(task.nodeId).catch(() => undefined);
    const where = node ? `"${node.hostname}" (${node.addr}, node ${task.nodeId})` : `node ${task.nodeId}`;
    throw new CmeshError('CMESH_E_TARGET_UNSUPPORTED', `${replica} runs on swarm node ${where}, not on this daemon's node: exec and cp reach only the tasks of the engine the daemon talks to`, {
      hint: `\`cmesh ps ${service}\` shows which tasks run here (pick one with --index), or run \`docker exec\` on ${node ? node.hostname : 'that node'}`,
      details: { service, index, nodeId: task.nodeId, ...(node ? { node: node.hostname, addr: node.addr } : {}), reason: 'other-node' },
    });
  }
  const name = `${spec.Name}.${task.slot}.${task.id}`;
  if (!task.containerId || (running && task.state !== 'running')) {
    throw new CmeshError('CMESH_E_USAGE', `${name} is ${task.state}, not running`, {
      hint: `\`cmesh ps ${service}\` shows its state; Swarm starts the task by itself (\`docker service ps ${spec.Name} --no-trunc\` for its error)`,
      details: { service, index, state: task.state },
    });
  }
  return taskAsContainer(task, service, 'none', spec.Name);
}
