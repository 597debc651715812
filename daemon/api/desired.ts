// Desired state of one project as the daemon persists it; reconcile converges the engine toward this.

import type { ProjectSpec } from './project.ts';
import type { Target } from './target.ts';

export const DESIRED_STATE_VERSION = 1;

export interface DesiredProject {
  /** Schema version of this file, bumped on incompatible change. */
  version: typeof DESIRED_STATE_VERSION;
  /** Incremented on every change; the loop reports which generation it converged to. */
  generation: number;
  project: ProjectSpec;
  /** Replica count per service, overriding spec.replicas (`scale`). Absent = spec.replicas. */
  scale: Record<string, number>;
  /** Services the user stopped (`cmesh stop`): keep containers, do not run them. */
  stopped: string[];
  /** Services selected by `up svc...`; empty = all. Other services are neither started nor removed. */
  selected: string[];
  /** Where the project runs, fixed from its first `up` until `down`; absent = local. */
  target?: Target;
  updatedAt: number;
}

/** Effective replica count for a service. */
export function desiredReplicas(desired: DesiredProject, service: string): number {
  const spec = desired.project.services[service];
  if (!spec) return 0;
  return desired.scale[service] ?? spec.replicas;
}
