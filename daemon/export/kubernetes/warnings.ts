// The generic half of "never a silent drop": every field the decision tables mark `warn` that a service actually sets
// becomes a finding. Fields mapped only in part (volumes, ports, pid…) warn where they are mapped.

import { relative } from 'node:path';
import type { MeshSpec, ProjectSpec, ServiceSpec } from '../../api/project.ts';
import { resolveMesh } from '../../config/x-cmesh.ts';
import { type Decision, MESH_DECISIONS, OPTION_DECISIONS, RESOURCE_DECISIONS, SERVICE_DECISIONS } from './decisions.ts';
import type { Findings } from './findings.ts';

/** A value a user wrote: not absent, not an empty list or map. */
function isSet(v: unknown): boolean {
  if (v === undefined) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v !== null && typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** Service fields whose default is a value, so "set" means "differs from what the loader fills in". */
const SERVICE_SET: Partial<Record<keyof ServiceSpec, (s: ServiceSpec) => boolean>> = {
  build: (s) => s.build !== undefined && s.image === undefined,
  restart: (s) => s.restart === 'no',
  networks: (s) => Object.entries(s.networks).some(([name, n]) => name !== 'default' || n.aliases.length > 0),
  stopSignal: (s) => s.stopSignal !== undefined && s.stopSignal !== 'SIGTERM',
};

const DEFAULT_MESH: MeshSpec = resolveMesh({}, {}, undefined);

/** Short form of a value for a warning: maps by their keys (`depends_on (api, db)`), the rest as JSON. */
function show(v: unknown): string {
  const many = Array.isArray(v) && v.some((x) => x !== null && typeof x === 'object');
  const text = typeof v === 'string' ? v : many ? `${(v as unknown[]).length} entries` : v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v).join(', ') : JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function report(findings: Findings, service: ServiceSpec, d: Decision, value: unknown): void {
  if (d.kind !== 'warn') return;
  findings.warn(service, d.key, `${d.key} (${show(value)}) is not exported: ${d.why}`);
}

export function warnUnmapped(project: ProjectSpec, service: ServiceSpec, findings: Findings): void {
  for (const [field, d] of Object.entries(SERVICE_DECISIONS) as [keyof ServiceSpec, Decision][]) {
    const set = SERVICE_SET[field]?.(service) ?? isSet(service[field]);
    if (set) report(findings, service, d, field === 'build' ? `./${relative(project.workingDir, service.build?.context ?? '')}` : service[field]);
  }
  const options = service.options ?? {};
  for (const [field, d] of Object.entries(OPTION_DECISIONS) as [keyof typeof OPTION_DECISIONS, Decision][]) {
    // `init: false` (no init process) is what a pod does anyway.
    const set = field === 'init' ? options.init === true : isSet(options[field]);
    if (set) report(findings, service, d, options[field]);
  }
  const resources = options.resources ?? {};
  for (const [field, d] of Object.entries(RESOURCE_DECISIONS) as [keyof typeof RESOURCE_DECISIONS, Decision][]) {
    if (isSet(resources[field])) report(findings, service, d, resources[field]);
  }
  for (const [field, d] of Object.entries(MESH_DECISIONS) as [keyof MeshSpec, Decision][]) {
    if (JSON.stringify(service.mesh[field]) !== JSON.stringify(DEFAULT_MESH[field])) report(findings, service, d, service.mesh[field]);
  }
}
