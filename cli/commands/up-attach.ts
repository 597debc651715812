// Which services a foreground `cmesh up` streams logs for: the requested ones (or all), minus Compose's `attach: false`.

import type { ProjectSpec } from '../../daemon/api/project.ts';

/** `undefined` = every service (the daemon's default, which also covers replicas of services added later). */
export function attachedServices(project: ProjectSpec, requested: readonly string[]): string[] | undefined {
  const candidates = requested.length > 0 ? [...requested] : Object.keys(project.services);
  const attached = candidates.filter((name) => project.services[name]?.attach !== false);
  if (requested.length === 0 && attached.length === candidates.length) return undefined;
  return attached;
}
