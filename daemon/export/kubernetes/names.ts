// Kubernetes names, labels and quantities from compose values.

import type { ProjectSpec, ServiceSpec } from '../../api/project.ts';

/**
 * A DNS-1035 label (what Service names need, and valid for every other kind): lower case, [a-z0-9-], starts with a
 * letter, at most 63 characters. Compose names allow `_`, `.` and upper case, so those are rewritten.
 */
export function kubeName(name: string): string {
  let n = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(n)) n = `x-${n}`;
  return n.slice(0, 63).replace(/-+$/, '');
}

/** ConfigMap/Secret keys allow [-._a-zA-Z0-9]. */
export function dataKey(name: string): string {
  return name.replace(/[^-._a-zA-Z0-9]/g, '_');
}

/** The labels that select a service's pods; every object of the service carries them. */
export function selectorLabels(project: ProjectSpec, service: ServiceSpec): Record<string, string> {
  return { 'app.kubernetes.io/name': kubeName(service.name), 'app.kubernetes.io/part-of': kubeName(project.name) };
}

const BINARY = [
  ['Gi', 1024 ** 3],
  ['Mi', 1024 ** 2],
  ['Ki', 1024],
] as const;

/** Bytes as a Kubernetes quantity, in the largest binary unit that divides it (`512Mi`), else plain bytes. */
export function bytesQuantity(bytes: number): string {
  for (const [unit, size] of BINARY) if (bytes % size === 0 && bytes >= size) return `${bytes / size}${unit}`;
  return String(bytes);
}

/** Nano-CPUs as a quantity: whole cores, else millicores (`500m`). */
export function cpuQuantity(nanoCpus: number): string {
  if (nanoCpus % 1e9 === 0) return String(nanoCpus / 1e9);
  return `${Math.max(1, Math.round(nanoCpus / 1e6))}m`;
}

/** Milliseconds as whole seconds for probe and grace fields, at least `min`. */
export function seconds(ms: number, min = 1): number {
  return Math.max(min, Math.ceil(ms / 1000));
}

/**
 * Kubernetes expands `$(VAR)` in a container's command, args and env values, and reads `$$` as `$`; compose values are
 * final, so every `$` that would start either is doubled (`$(HOME)` → `$$(HOME)`) and the container sees the original.
 */
export function escapeExpansion(text: string): string {
  return text.replace(/\$(?=[$(])/g, '$$$$');
}
