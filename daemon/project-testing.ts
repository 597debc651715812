// Test helpers for the project manager's modules: a fake engine with a project already up, and a mesh that records.

import type { DesiredProject } from './api/desired.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import type { ProjectMesh } from './project-mesh.ts';
import { ProjectReconciler } from './reconcile/loop.ts';
import type { ContainerRef } from './reconcile/plan-types.ts';

/** Runs one reconcile pass of `desired` on a fresh fake engine; every engine stop/start is then appended to `log`. */
export async function engineWithProject(desired: DesiredProject, log: string[]): Promise<FakeEngine> {
  const engine = new FakeEngine();
  const abort = new AbortController();
  const loop = new ProjectReconciler({ engine, name: desired.project.name, getDesired: () => desired, emit: () => {}, signal: abort.signal });
  await loop.reconcileNow();
  abort.abort();
  const nameOf = async (id: string): Promise<string> => (await engine.inspectContainer(id))?.name ?? id;
  const stop = engine.stopContainer.bind(engine);
  const start = engine.startContainer.bind(engine);
  engine.stopContainer = async (id, timeoutSec) => {
    log.push(`stop ${await nameOf(id)}${timeoutSec === undefined ? '' : ` ${timeoutSec}s`}`);
    return stop(id, timeoutSec);
  };
  engine.startContainer = async (id) => {
    log.push(`start ${await nameOf(id)}`);
    return start(id);
  };
  return engine;
}

/** A mesh that appends every drain to `log`; `serving` answers replicaServing when given. */
export function recordingMesh(log: string[], serving?: (ref: ContainerRef) => boolean): ProjectMesh {
  return {
    publish: async () => {},
    adopt: async () => {},
    unpublish: async () => {},
    observed: (d, containers) => void log.push(`observed ${d.project.name} ${containers.length}`),
    beforeStop: async (project, ref, graceMs) => void log.push(`drain ${project} ${ref.name} ${graceMs}ms`),
    afterStop: (project, ref, removed) => void log.push(`undrain ${project} ${ref.name}${removed ? ' removed' : ''}`),
    ...(serving ? { replicaServing: (_project: string, ref: ContainerRef) => serving(ref) } : {}),
  };
}
