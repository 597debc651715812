// `up --wait` as a CI smoke test: the daemon's readiness wait, then every replica ready in the mesh and a probe
// through each published port, all within --timeout; the outcome is a per-service verdict, printed and reported.

import type { LogFrame, ServiceTableRow } from '../../daemon/api/control.ts';
import { CmeshError, isCmeshError } from '../../daemon/api/errors.ts';
import { meshReady } from '../../daemon/api/service-table.ts';
import type { DaemonClient } from '../daemon-client.ts';
import type { OutStream } from '../output.ts';
import { type ProbeResult, probeService } from './probe.ts';
import { writeReports } from './report.ts';
import { buildVerdict, type CiVerdict, formatVerdict } from './verdict.ts';

/** The probe phase gets at least this long even when the daemon's wait used up most of the timeout. */
const MIN_PROBE_MS = 3000;
const LOG_LINES = 20;

export interface CiWaitOptions {
  client: DaemonClient;
  project: string;
  /** Services the verdict covers. */
  services: string[];
  timeoutMs: number;
  startedAt: number;
  out: OutStream;
  /** The `up --wait` operation itself. */
  up: () => Promise<unknown>;
  reports: { junit?: string; json?: string };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The project's service table; with `readyWithinMs` the daemon holds the answer until `services` are ready in the mesh
 * or that time is up (services-wait.ts), so the CLI hears of the last replica's rise when it happens. A daemon that
 * cannot be read gives no rows: the verdict then says what it could not see.
 */
async function serviceRows(client: DaemonClient, project: string, wait?: { services: string[]; withinMs: number }): Promise<ServiceTableRow[]> {
  const query = [`project=${encodeURIComponent(project)}`];
  if (wait) query.push(...wait.services.map((s) => `service=${encodeURIComponent(s)}`), `readyWithinMs=${Math.max(0, Math.round(wait.withinMs))}`);
  return client.request<ServiceTableRow[]>('GET', `/v1/services?${query.join('&')}`).catch(() => []);
}

/** Until every service is ready in the mesh and every probe passes, or the deadline; returns the last look. */
async function smoke(o: CiWaitOptions, deadline: number): Promise<{ rows: ServiceTableRow[]; probes: ProbeResult[] }> {
  for (;;) {
    const rows = (await serviceRows(o.client, o.project, { services: o.services, withinMs: deadline - Date.now() })).filter((r) => o.services.includes(r.service));
    const probes: ProbeResult[] = [];
    for (const row of rows) probes.push(...(await probeService(row, Math.max(500, Math.min(2000, deadline - Date.now())))));
    if ((meshReady(rows, o.services) && probes.every((p) => p.ok)) || Date.now() >= deadline) return { rows, probes };
    // Ready but a probe failed (or a daemon that answers at once): look and probe again shortly.
    await sleep(Math.min(100, Math.max(25, deadline - Date.now())));
  }
}

/** The last lines of each failing service's replicas, `#n` prefixed; bounded in time so a stuck engine cannot hang CI. */
async function lastLogs(client: DaemonClient, project: string, service: string): Promise<string[]> {
  const lines: string[] = [];
  const path = `/v1/projects/${encodeURIComponent(project)}/logs?tail=${LOG_LINES}&service=${encodeURIComponent(service)}`;
  try {
    for await (const f of client.stream<LogFrame>('GET', path, undefined, AbortSignal.timeout(5000))) {
      if (typeof f.text === 'string') lines.push(`#${f.replica} ${f.text.replace(/\r?\n$/, '')}`);
    }
  } catch {
    // Best effort: a verdict without logs beats no verdict.
  }
  return lines.slice(-LOG_LINES * 2);
}

/** Runs the smoke test, prints the verdict, writes the reports; throws the failure's CmeshError (its exit code). */
export async function runCiWait(o: CiWaitOptions): Promise<CiVerdict> {
  const deadline = o.startedAt + o.timeoutMs;
  let error: CmeshError | undefined;
  try {
    await o.up();
  } catch (err) {
    if (!isCmeshError(err)) throw err;
    error = err;
  }
  const { rows, probes } = error
    ? { rows: (await serviceRows(o.client, o.project)).filter((r) => o.services.includes(r.service)), probes: [] }
    : await smoke(o, Math.max(deadline, Date.now() + MIN_PROBE_MS));
  const draft = buildVerdict({ project: o.project, services: o.services, rows, probes, durationMs: Date.now() - o.startedAt, logs: {}, ...(error ? { error } : {}) });
  const logs: Record<string, string[]> = {};
  for (const s of draft.services) if (s.status === 'failed') logs[s.service] = await lastLogs(o.client, o.project, s.service);
  const verdict = buildVerdict({ project: o.project, services: o.services, rows, probes, durationMs: Date.now() - o.startedAt, logs, ...(error ? { error } : {}) });
  o.out.write(formatVerdict(verdict));
  await writeReports(verdict, o.reports);
  if (!verdict.ok) {
    const failing = verdict.services.filter((s) => s.status === 'failed').map((s) => s.service);
    const code = error?.code ?? 'CMESH_E_UNHEALTHY';
    // The verdict on stdout carries the per-service logs for CI; the error on stderr keeps the daemon's own details
    // (a crashed container's last lines) so a person reading the terminal sees why without scrolling the verdict.
    throw new CmeshError(code, `${verdict.message ?? 'smoke test failed'}${failing.length > 0 ? ` (failing: ${failing.join(', ')})` : ''}`, {
      ...(error?.hint ? { hint: error.hint } : {}),
      issues: error?.issues ?? [],
      details: { ...(error?.details ?? {}), services: failing },
    });
  }
  return verdict;
}
