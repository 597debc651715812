// Spec hash: sha256 of what a container is made of, so observe() can tell a stale replica from a current one.

import { createHash } from 'node:crypto';
import type { ProjectSpec, ServiceSpec } from '../api/project.ts';
import { containerTemplate } from './container-spec.ts';

/** Bump when the hash input changes shape on purpose: every replica is then recreated once. */
const HASH_VERSION = 1;

/** JSON with sorted keys and undefined dropped, so the same spec always hashes the same. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : stableStringify(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

/**
 * Hash of the container-relevant spec of a service. Replica count and x-cmesh balancing settings are not part of the
 * container template, so scaling or changing the lb strategy never recreates replicas. `imageId` is the local image
 * id for built images: a rebuild under the same tag must still roll the replicas.
 */
export function specHash(project: ProjectSpec, service: ServiceSpec, imageId?: string): string {
  const input = { v: HASH_VERSION, template: containerTemplate(project, service), imageId, hooks: lifecycleHooks(service) };
  return createHash('sha256').update(stableStringify(input)).digest('hex');
}

/**
 * `post_start` / `pre_stop` run outside the container (exec API) but belong to it: Compose recreates a container whose
 * hooks changed. Undefined when the service has none, so stableStringify drops the key and a hook-less service keeps the
 * hash it had before hooks were hashed (no HASH_VERSION bump: an upgrade must not recreate every container).
 */
function lifecycleHooks(service: ServiceSpec): object | undefined {
  const postStart = service.postStart?.length ? service.postStart : undefined;
  const preStop = service.preStop?.length ? service.preStop : undefined;
  return postStart || preStop ? { postStart, preStop } : undefined;
}

/** Short form for plans and logs, like a git abbreviated id. */
export function shortHash(hash: string | undefined): string {
  return hash ? hash.slice(0, 12) : '-';
}
