// Collects what the export could not carry over: each becomes a warning (stderr, pointing at the service in the compose
// file) and an annotation on the service's objects, so the loss is visible both to the user and in the cluster.

import type { ConfigWarning, ServiceSpec } from '../../api/project.ts';

/** Annotation listing what of the compose service has no Kubernetes equivalent. */
export const UNSUPPORTED_ANNOTATION = 'cmesh.dev/unsupported';

export class Findings {
  readonly warnings: ConfigWarning[] = [];
  /** Notes that are not losses (e.g. "published ports stay cluster-internal"), printed once. */
  readonly notes: string[] = [];
  private readonly lost = new Map<string, string[]>();

  /** `key` is the compose path below the service (`depends_on`, `volumes[1]`, `x-cmesh.lb`). */
  warn(service: ServiceSpec, key: string, message: string): void {
    const w: ConfigWarning = { message: `kubernetes: ${message}`, path: `services.${service.name}.${key}` };
    if (service.position !== undefined) w.position = service.position;
    this.warnings.push(w);
    const list = this.lost.get(service.name) ?? [];
    if (!list.includes(key)) list.push(key);
    this.lost.set(service.name, list);
  }

  /** A warning about a top-level object (`volumes.data`): pointed at its key, annotated on nothing. */
  warnAt(path: string, message: string): void {
    this.warnings.push({ message: `kubernetes: ${message}`, path });
  }

  /** The annotation value for a service, or undefined when nothing was lost. */
  annotation(service: ServiceSpec): Record<string, string> {
    const list = this.lost.get(service.name);
    return list === undefined ? {} : { [UNSUPPORTED_ANNOTATION]: list.join(', ') };
  }
}
