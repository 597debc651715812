// The swarm target's `stop`/`start` (replicas to 0 and back, the count kept in the desired state) and the context that
// lets the replica verbs (kill, port, top, images, dash's kill, exec, cp) act on this node's tasks. `pause` is refused by name
// (api/target.ts): Swarm has no paused task state.

import { setTimeout as sleep } from 'node:timers/promises';
import type { ReplicaStatus, ServicesRequest } from '../api/control.ts';
import type { DesiredProject } from '../api/desired.ts';
import { CmeshError } from '../api/errors.ts';
import { Labels } from '../api/labels.ts';
import type { VerbContext } from '../project-verbs.ts';
import { swarmProjectLabels, swarmReplicas } from './deploy.ts';
import type { SwarmProjects } from './swarm-projects.ts';
import { swarmTaskReplica } from './task-replica.ts';
import { updateService } from './update-service.ts';

/** The replica verbs' view of a swarm project: its tasks on this node; a "reconcile" re-feeds the mesh pools. */
export function swarmVerbContext(swarm: SwarmProjects, project: string, desired: () => DesiredProject | undefined): VerbContext {
  return {
    engine: swarm.engine,
    project,
    containers: () => swarm.localTasks(project),
    replica: (service, index, running) => swarmTaskReplica(swarm.swarmEngine, project, service, index, running),
    reconcileNow: async () => {
      const d = desired();
      if (d) await swarm.observeOnce(d);
    },
    replacesKilled: true,
  };
}

/** Sets each service's replica count to what the desired state says now (0 when stopped); the spec stays as it is. */
async function applyReplicas(swarm: SwarmProjects, desired: DesiredProject, services: string[]): Promise<void> {
  const engine = swarm.swarmEngine;
  for (const s of await engine.listServices(swarmProjectLabels(desired.project.name))) {
    const name = s.spec.Labels[Labels.service] ?? '';
    const want = swarmReplicas(desired, name);
    if (!services.includes(name)) continue;
    await updateService(engine, s, (current) => (current.spec.Mode.Replicated.Replicas === want ? undefined : { ...current.spec, Mode: { Replicated: { Replicas: want } } }));
  }
}

/** `-t`: Swarm stops a task after its service's stop_grace_period; another timeout per call would be a spec change. */
function refuseStopTimeout(verb: string, request: ServicesRequest): void {
  if (request.timeoutMs === undefined) return;
  throw new CmeshError('CMESH_E_TARGET_UNSUPPORTED', `\`cmesh ${verb} -t\` is not available on the swarm target: Swarm stops each task after its service's stop_grace_period`, {
    hint: 'set `stop_grace_period` in the compose file and run `cmesh up` (a rolling update), then run the verb without -t',
    details: { verb, target: 'swarm', reason: 'target-semantics' },
  });
}

/** `restart` on swarm (SwarmProjects.restart: a rolling ForceUpdate), `-t` refused. */
export async function swarmRestartVerb(swarm: SwarmProjects, desired: DesiredProject, request: ServicesRequest, timeoutMs: number): Promise<{ replicas: ReplicaStatus[] }> {
  refuseStopTimeout('restart', request);
  return { replicas: await swarm.restart(desired, request.services, timeoutMs) };
}

/**
 * `stop` (`desired` has the services stopped, not saved yet): Swarm scales them to 0 and the verb returns once their task
 * containers have stopped (stop_grace_period); `start` (no longer stopped): back to the kept count, ready (healthy)
 * before it returns. Either way the pools follow before the answer.
 */
export async function swarmStopStart(
  swarm: SwarmProjects,
  desired: DesiredProject,
  request: ServicesRequest,
  opts: { verb: 'stop' | 'start'; waitMs: number; commit(desired: DesiredProject): Promise<void> },
): Promise<{ replicas: ReplicaStatus[] }> {
  if (opts.verb === 'stop') refuseStopTimeout('stop', request);
  // Saved only once the request is one the swarm can carry out: `start` and `up` read the kept count from it.
  await opts.commit(desired);
  const timeoutMs = opts.waitMs;
  const services = request.services;
  const project = desired.project.name;
  const selected = services.length > 0 ? services : Object.keys(desired.project.services);
  await applyReplicas(swarm, desired, selected);
  const stopping = selected.filter((s) => desired.stopped.includes(s));
  const starting = selected.filter((s) => !desired.stopped.includes(s));
  if (starting.length > 0) await swarm.waitReady(desired, starting, timeoutMs);
  const deadline = Date.now() + timeoutMs;
  const running = async () => (await swarm.taskContainers(project, true)).filter((c) => c.state === 'running' && stopping.includes(c.labels[Labels.service] ?? ''));
  for (let left = await running(); left.length > 0; left = await running()) {
    if (Date.now() > deadline) {
      throw new CmeshError('CMESH_E_TIMEOUT', `tasks of ${stopping.join(', ')} still running ${Math.round(timeoutMs / 1000)}s after the scale to 0: ${left.map((c) => c.name).join(', ')}`, {
        hint: 'see `docker service ps <project>_<service>`; a task ignoring its stop signal is killed after stop_grace_period',
      });
    }
    await sleep(250);
  }
  await swarm.observeOnce(desired);
  swarm.emit({ type: 'project', time: Date.now(), project, action: opts.verb === 'stop' ? 'stopped' : 'started' });
  return { replicas: await swarm.ps(project, false, []) };
}
