// `cmesh services`: the mesh's service table — published ports, balancing, readiness and per-replica traffic.

import type { Command } from 'commander';
import type { ReplicaTableRow, ServiceTableRow } from '../../daemon/api/control.ts';
import { isRouted, runningReplicas } from '../ci/verdict.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { readGlobalOptions } from '../global-options.ts';
import { type Colors, type Column, colorsFor, formatTable, printJson } from '../output.ts';
import { collapsePortRanges, formatPortRange } from '../port-ranges.ts';
import { requireProjectName } from '../project-ref.ts';

/** One table line: a service, or one of its replicas indented under it. */
type Line = { kind: 'service'; row: ServiceTableRow } | { kind: 'replica'; row: ReplicaTableRow; routed: boolean };

/**
 * Published ports (consecutive ones as one range, UDP ones marked `/udp`, like docker ps; those of an h2c or gRPC
 * service `/h2c` or `/grpc`, as the east-west ports name theirs), then the ports callers reach the service on by name.
 */
export function formatPorts(row: ServiceTableRow): string {
  const mappings = row.publishedPorts.map((p) => ({ host: p.hostIp, hostPort: p.published, containerPort: p.target, protocol: p.protocol }));
  const h2 = row.protocol === 'h2c' || row.protocol === 'grpc' ? `/${row.protocol}` : '';
  const published = collapsePortRanges(mappings).map((r) => `${formatPortRange(r)}${r.protocol === 'udp' ? '/udp' : h2}`);
  const eastWest = (row.eastWest?.ports ?? []).map((p) => `ew:${p.port}/${p.protocol}`);
  return [...published, ...eastWest].join(', ') || '-';
}

const ms = (v: number | null): string => (v === null ? '-' : `${Math.round(v)}`);

/** A replica's health as the mesh sees it; one the mesh never routes (no ports) has only its container state. */
export function replicaHealth(r: ReplicaTableRow, routed = true): string {
  if (r.draining) return 'draining';
  if (r.state !== 'running' || !routed) return r.state;
  if (r.health.passive === 'ejected') return 'ejected';
  if (r.health.passive === 'probing') return 'probing';
  return r.health.active === 'unknown' ? 'starting' : r.health.active;
}

function lines(rows: ServiceTableRow[]): Line[] {
  return rows.flatMap((row): Line[] => {
    const routed = isRouted(row);
    return [{ kind: 'service', row }, ...row.replicas.map((r): Line => ({ kind: 'replica', row: r, routed }))];
  });
}

/** READY: replicas taking traffic; for a service the mesh never routes, replicas running (like the CI verdict). */
export function readiness(row: ServiceTableRow): { text: string; ok: boolean } {
  if (!isRouted(row)) {
    const running = runningReplicas(row);
    return { text: `${running}/${row.desired} running (not routed)`, ok: running >= row.desired };
  }
  return { text: `${row.ready}/${row.desired}${row.panic ? ' (panic)' : ''}`, ok: row.ready >= row.desired && !row.panic };
}

/**
 * The BREAKER cell: each configured bound as now/limit (req = in flight, pend = pending, conn = upstream connections),
 * then the requests it refused (503 overflow) if any; '' for a service without a breaker to show.
 */
export function breakerMarker(row: ServiceTableRow): string {
  const b = row.breaker;
  if (b === undefined) return '';
  const parts: string[] = [];
  if (b.limits.maxRequests !== undefined) parts.push(`req ${b.requests}/${b.limits.maxRequests}`);
  if (b.limits.maxPending !== undefined) parts.push(`pend ${b.pending}/${b.limits.maxPending}`);
  if (b.limits.maxConnections !== undefined) parts.push(`conn ${b.connections}/${b.limits.maxConnections}`);
  const refused = b.overflow.requests + b.overflow.pending + b.overflow.connections;
  if (refused > 0) parts.push(`overflow ${refused}`);
  return parts.join(' ') || '-';
}

function healthColor(c: Colors, h: string): string {
  if (h === 'healthy' || h === 'running') return c.green(h);
  if (h === 'unhealthy' || h === 'ejected' || h === 'exited' || h === 'dead') return c.red(h);
  return c.yellow(h);
}

/** Yellow once the breaker has refused requests: the service was saturated at some point. */
function breakerColumn(c: Colors): Column<Line> {
  return {
    header: 'BREAKER',
    value: (l) => {
      if (l.kind !== 'service') return '';
      const marker = breakerMarker(l.row);
      return marker.includes('overflow') ? c.yellow(marker) : marker;
    },
  };
}

/** The text table: one line per service, its replicas indented under it; BREAKER only when a service has one. */
export function formatServiceTable(rows: ServiceTableRow[], c: Colors): string {
  const s = (fn: (row: ServiceTableRow) => string) => (l: Line) => (l.kind === 'service' ? fn(l.row) : '');
  const r = (fn: (row: ReplicaTableRow) => string) => (l: Line) => (l.kind === 'replica' ? fn(l.row) : '');
  const breakers = rows.some((row) => row.breaker !== undefined);
  return formatTable(lines(rows), [
    { header: 'SERVICE', value: (l) => (l.kind === 'service' ? l.row.service : `  #${l.row.replica}`) },
    { header: 'PORTS', value: s(formatPorts) },
    { header: 'LB', value: s((row) => row.strategy) },
    {
      header: 'READY',
      value: s((row) => {
        const { text, ok } = readiness(row);
        return ok ? c.green(text) : c.yellow(text);
      }),
    },
    ...(breakers ? [breakerColumn(c)] : []),
    { header: 'ENDPOINT', value: r((row) => (row.endpoint ? `${row.endpoint.host}:${row.endpoint.port}` : '-')) },
    { header: 'HEALTH', value: (l) => (l.kind === 'replica' ? healthColor(c, replicaHealth(l.row, l.routed)) : '') },
    { header: 'IN-FLIGHT', align: 'right', value: r((row) => String(row.inFlight)) },
    { header: 'RPS', align: 'right', value: r((row) => row.requestsPerSec.toFixed(1)) },
    { header: 'P50/P95 MS', align: 'right', value: r((row) => `${ms(row.latency.p50Ms)}/${ms(row.latency.p95Ms)}`) },
    { header: 'ERRORS', align: 'right', value: r((row) => `${row.errors}/${row.requests}`) },
  ]);
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('services')
    .description('show the mesh’s service table: ports, balancing, health and traffic per replica')
    .option('--json', 'print a JSON array of services (ServiceTableRow)')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const name = await requireProjectName(command, ctx);
      const client = createDaemonClient(ctx);
      const rows = await client.request<ServiceTableRow[]>('GET', `/v1/services?project=${encodeURIComponent(name)}`);
      if (opts.json) return printJson(rows, ctx.stdout);
      const c = colorsFor(ctx.stdout, { env: ctx.env, color: readGlobalOptions(command).color });
      ctx.stdout.write(formatServiceTable(rows, c));
    });
}
