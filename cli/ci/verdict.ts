// The CI verdict: one pass/fail per service with the evidence (readiness, probes, health, last log lines), built
// from `up --wait`'s outcome and the mesh's service table. Pure, so the report writers are tested without Docker.

import type { ServiceTableRow } from '../../daemon/api/control.ts';
import { type CmeshError, ExitCode } from '../../daemon/api/errors.ts';
import { isRouted } from '../../daemon/api/service-table.ts';
import type { ProbeResult } from './probe.ts';

export type ServiceStatus = 'passed' | 'failed' | 'skipped';

/**
 * What readiness was judged on: `routed`, replicas ready in the mesh (`ready`/`desired`); `not-routed`, a service the
 * proxy never routes (no ports), proven by the daemon's wait and shown as replicas `running`; `absent`, not in the
 * service table (never started, or the table could not be read).
 */
export type MeshGate = 'routed' | 'not-routed' | 'absent';

export interface ServiceVerdict {
  service: string;
  status: ServiceStatus;
  /** Why it failed or was skipped. */
  message?: string;
  mesh: MeshGate;
  /** Replicas ready in the mesh (for a service it does not route, not evidence of anything: usually 0). */
  ready: number;
  /** Replicas whose container is running (the evidence for a `not-routed` service). */
  running: number;
  desired: number;
  probes: ProbeResult[];
  /** One line per replica: `web#1 active=healthy passive=ok` plus the last probe reason. */
  health: string[];
  logs: string[];
}

export interface CiVerdict {
  project: string;
  ok: boolean;
  exitCode: number;
  /** The CmeshError code when the run failed. */
  code?: string;
  message?: string;
  durationMs: number;
  services: ServiceVerdict[];
}

export function healthLines(row: ServiceTableRow | undefined): string[] {
  if (!row) return [];
  return row.replicas.map((r) => {
    const reason = r.health.activeReason ? ` (${r.health.activeReason})` : '';
    return `${r.id} state=${r.state} active=${r.health.active}${reason} passive=${r.health.passive}${r.routable ? '' : ' not-routable'}`;
  });
}

export interface VerdictInput {
  project: string;
  services: string[];
  rows: ServiceTableRow[];
  probes: ProbeResult[];
  durationMs: number;
  error?: CmeshError;
  /** Last log lines per service (the CLI fetches them for failing services). */
  logs: Record<string, string[]>;
}

/** Services an error names: `details.service` (builds) or `details.services` (readiness). */
export function failingServices(error: CmeshError | undefined): string[] {
  if (!error) return [];
  const d = error.details;
  const list = Array.isArray(d['services']) ? (d['services'] as unknown[]).filter((s): s is string => typeof s === 'string') : [];
  return typeof d['service'] === 'string' ? [...new Set([d['service'], ...list])] : list;
}

/**
 * Whether mesh readiness applies: only services the proxy can route (a published port, or replicas with a 127.0.0.1
 * endpoint to probe). A worker with no ports never joins the mesh; the daemon's own wait already proved it running.
 */
export function meshGated(row: ServiceTableRow | undefined): row is ServiceTableRow {
  return row !== undefined && isRouted(row);
}

// `cmesh services` reads its rows the same way (the rule lives beside the rows, in daemon/api).
export { isRouted };

/** Replicas whose container is running: the readiness evidence for a service that is not routed. */
export function runningReplicas(row: ServiceTableRow): number {
  return row.replicas.filter((r) => r.state === 'running').length;
}

export function buildVerdict(input: VerdictInput): CiVerdict {
  const named = new Set(failingServices(input.error));
  const services = [...input.services].sort().map((service): ServiceVerdict => {
    const row = input.rows.find((r) => r.service === service);
    const probes = input.probes.filter((p) => p.service === service);
    const mesh: MeshGate = meshGated(row) ? 'routed' : row ? 'not-routed' : 'absent';
    const running = row ? runningReplicas(row) : 0;
    const base = { service, mesh, ready: row?.ready ?? 0, running, desired: row?.desired ?? 0, probes, health: healthLines(row), logs: input.logs[service] ?? [] };
    const badProbe = probes.find((p) => !p.ok);
    if (named.has(service)) return { ...base, status: 'failed', message: input.error!.message };
    if (badProbe) return { ...base, status: 'failed', message: `probe ${badProbe.target}: ${badProbe.detail}` };
    if (meshGated(row) && row.ready < row.desired) return { ...base, status: 'failed', message: `${row.ready}/${row.desired} replicas ready in the mesh` };
    if (input.error) {
      // The run failed elsewhere (a build, the engine): this service was never proven either way.
      return meshGated(row) && row.desired > 0 && row.ready >= row.desired ? { ...base, status: 'passed' } : { ...base, status: 'skipped', message: `not verified: ${input.error.message}` };
    }
    return { ...base, status: 'passed' };
  });
  const failed = services.some((s) => s.status === 'failed');
  const error = input.error;
  const ok = !error && !failed;
  return {
    project: input.project,
    ok,
    exitCode: ok ? ExitCode.ok : (error?.exitCode ?? ExitCode.unhealthy),
    ...(error ? { code: error.code, message: error.message } : failed ? { code: 'CMESH_E_UNHEALTHY', message: 'a smoke probe or readiness check failed' } : {}),
    durationMs: input.durationMs,
    services,
  };
}

/** The readiness evidence as `key=n/m`: mesh readiness for a routed service, running replicas for one never routed. */
export function readinessText(s: ServiceVerdict): string {
  return s.mesh === 'not-routed' ? `running=${s.running}/${s.desired} (not routed)` : `ready=${s.ready}/${s.desired}`;
}

/** Plain, stable, greppable lines: `cmesh: verdict <service> PASS|FAIL|SKIP ready=n/m|running=n/m (not routed) ...`. */
export function formatVerdict(v: CiVerdict): string {
  const lines: string[] = [];
  for (const s of v.services) {
    const tag = s.status === 'passed' ? 'PASS' : s.status === 'failed' ? 'FAIL' : 'SKIP';
    lines.push(`cmesh: verdict ${s.service} ${tag} ${readinessText(s)}${s.message ? ` ${s.message}` : ''}`);
    for (const p of s.probes) lines.push(`cmesh:   probe ${p.target} ${p.ok ? 'ok' : 'FAILED'} ${p.detail}`);
    if (s.status === 'failed') {
      for (const h of s.health) lines.push(`cmesh:   health ${h}`);
      lines.push(s.logs.length > 0 ? `cmesh:   last log lines of ${s.service}:` : `cmesh:   no log output from ${s.service}`);
      for (const l of s.logs) lines.push(`cmesh:   | ${l}`);
    }
  }
  const failing = v.services.filter((s) => s.status === 'failed').map((s) => s.service);
  lines.push(
    v.ok
      ? `cmesh: result PASS project=${v.project} services=${v.services.length} in ${(v.durationMs / 1000).toFixed(1)}s`
      : `cmesh: result FAIL project=${v.project} exit=${v.exitCode} code=${v.code ?? '?'} failing=${failing.join(',') || '-'}`,
  );
  return `${lines.join('\n')}\n`;
}
