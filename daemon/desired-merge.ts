// Pure rules for how `up`, `scale`, `stop` and `start` change a project's desired state.

import type { UpRequest } from './api/control.ts';
import { DESIRED_STATE_VERSION, type DesiredProject } from './api/desired.ts';
import { CmeshError } from './api/errors.ts';
import type { ProjectSpec } from './api/project.ts';

export function assertServices(project: ProjectSpec, services: Iterable<string>): void {
  for (const name of services) {
    if (!project.services[name]) {
      const known = Object.keys(project.services).sort().join(', ') || '(none)';
      throw new CmeshError('CMESH_E_SERVICE_NOT_FOUND', `no service "${name}" in project "${project.name}"`, {
        hint: `services are: ${known}`,
        details: { service: name },
      });
    }
  }
}

/** The named services plus everything they depend on, transitively (like `docker compose up svc`). */
export function withDependencies(project: ProjectSpec, services: readonly string[]): string[] {
  assertServices(project, services);
  const out = new Set<string>();
  const visit = (name: string): void => {
    if (out.has(name)) return;
    out.add(name);
    for (const dep of Object.keys(project.services[name]?.dependsOn ?? {})) {
      if (project.services[dep]) visit(dep);
    }
  };
  for (const s of services) visit(s);
  return [...out].sort();
}

/** Services that run under `desired`: the selection, or all of them when nothing was selected. */
export function activeServices(desired: DesiredProject): string[] {
  const all = Object.keys(desired.project.services).sort();
  return desired.selected.length === 0 ? all : desired.selected.filter((s) => all.includes(s));
}

/**
 * New desired state for `up`. A scale override survives unless this `up` passes --scale for that service; `up svc`
 * adds to an earlier selection (it never narrows what already runs); services being brought up are un-stopped.
 */
export function mergeUp(
  prev: DesiredProject | undefined,
  project: ProjectSpec,
  request: Pick<UpRequest, 'services' | 'scale'>,
  now = Date.now(),
): DesiredProject {
  const requested = request.services.length === 0 ? [] : withDependencies(project, request.services);
  assertServices(project, Object.keys(request.scale ?? {}));
  let selected: string[];
  if (requested.length === 0) selected = [];
  else if (prev && prev.selected.length === 0) selected = [];
  else selected = [...new Set([...(prev?.selected ?? []), ...requested])].filter((s) => project.services[s]).sort();

  const scale: Record<string, number> = {};
  for (const [svc, n] of Object.entries(prev?.scale ?? {})) if (project.services[svc]) scale[svc] = n;
  Object.assign(scale, request.scale ?? {});
  assertSingleNamed(project, scale);

  const starting = new Set(requested.length === 0 ? Object.keys(project.services) : requested);
  const stopped = (prev?.stopped ?? []).filter((s) => project.services[s] && !starting.has(s));
  return {
    version: DESIRED_STATE_VERSION,
    generation: (prev?.generation ?? 0) + 1,
    project,
    scale,
    stopped,
    selected,
    updatedAt: now,
  };
}

/** A service with compose's `container_name` or a static address is one container, so one replica at most (Compose refuses it too). */
function assertSingleNamed(project: ProjectSpec, scale: Record<string, number>): void {
  for (const [svc, n] of Object.entries(scale)) {
    const fixedName = project.services[svc]?.options?.containerName;
    if (fixedName !== undefined && n > 1) {
      throw new CmeshError('CMESH_E_USAGE', `service "${svc}" sets container_name "${fixedName}" and can run only one replica`, {
        hint: 'drop container_name from the compose file to run several replicas',
      });
    }
    // A static address fits one container too: a second replica would fail to start on the address conflict.
    const pinned = Object.entries(project.services[svc]?.networks ?? {}).find(([, e]) => e.ipv4Address !== undefined || e.ipv6Address !== undefined);
    if (pinned !== undefined && n > 1) {
      throw new CmeshError('CMESH_E_USAGE', `service "${svc}" has a static address on network "${pinned[0]}" and can run only one replica`, {
        hint: 'drop ipv4_address/ipv6_address from the compose file to run several replicas',
      });
    }
  }
}

export function mergeScale(prev: DesiredProject, scale: Record<string, number>, now = Date.now()): DesiredProject {
  assertServices(prev.project, Object.keys(scale));
  for (const [svc, n] of Object.entries(scale)) {
    if (!Number.isInteger(n) || n < 0 || n > 1000) {
      throw new CmeshError('CMESH_E_USAGE', `invalid replica count ${n} for service "${svc}"`, {
        hint: 'use a whole number from 0 to 1000, e.g. `cmesh scale web=3`',
      });
    }
  }
  assertSingleNamed(prev.project, scale);
  // Scaling a service that was not selected makes it part of the project's running set.
  const selected =
    prev.selected.length === 0 ? [] : [...new Set([...prev.selected, ...Object.keys(scale)])].sort();
  return {
    ...prev,
    generation: prev.generation + 1,
    scale: { ...prev.scale, ...scale },
    selected,
    updatedAt: now,
  };
}

export function mergeStopped(prev: DesiredProject, services: string[], stop: boolean, now = Date.now()): DesiredProject {
  assertServices(prev.project, services);
  const target = services.length === 0 ? Object.keys(prev.project.services) : services;
  const set = new Set(prev.stopped);
  for (const s of target) {
    if (stop) set.add(s);
    else set.delete(s);
  }
  return { ...prev, generation: prev.generation + 1, stopped: [...set].sort(), updatedAt: now };
}

/** Replica count per running service, for `project` events. */
export function replicaCounts(desired: DesiredProject): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of activeServices(desired)) out[s] = desired.scale[s] ?? desired.project.services[s]?.replicas ?? 0;
  return out;
}
