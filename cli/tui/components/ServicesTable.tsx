// The services table: one line per service, and per replica (state, health, uptime, traffic, sparkline) when expanded.

import { Box } from 'ink';
import type { ReactNode } from 'react';
import type { ReplicaStatus, ReplicaTableRow, ServiceTableRow } from '../../../daemon/api/control.ts';
import { formatPorts, replicaHealth } from '../../commands/services.ts';
import { type DashState, type Row, rowKey, type Spark, selectedRow, visibleRows } from '../state.ts';
import { cell, duration, ms, percent, rule, sparkline } from './format.ts';
import { Line, type Tone } from './theme.tsx';

export function serviceHealth(s: ServiceTableRow): string {
  if (s.desired === 0) return 'stopped';
  if (s.panic) return 'panic';
  if (s.ready >= s.desired) return 'healthy';
  return s.ready === 0 ? 'down' : 'degraded';
}

function toneOf(health: string): Tone | undefined {
  if (health === 'healthy' || health === 'running') return 'ok';
  if (['down', 'panic', 'unhealthy', 'ejected', 'exited', 'dead'].includes(health)) return 'bad';
  return 'warn';
}

// Column widths; the sparkline takes what is left of the line.
const S = { name: 16, ready: 7, health: 10, lb: 12 };
const R = { name: 10, state: 8, health: 9, up: 7, rst: 4, infl: 5, rps: 7, lat: 9, err: 6 };
const R_WIDTH = Object.values(R).reduce((a, b) => a + b, 0);

/** Room left for sparklines: one (rps) on narrow screens, two (rps, p95) from 30 columns of room. */
function sparkRoom(width: number): number[] {
  const room = width - 2 - R_WIDTH - 1;
  if (room >= 30) return [Math.floor((room - 1) / 2), Math.ceil((room - 1) / 2)];
  return room >= 8 ? [room] : [];
}

export function serviceLine(s: ServiceTableRow, width: number): string {
  const fixed = 2 + S.name + S.ready + S.health + S.lb;
  return `${cell(s.service, S.name)}${cell(`${s.ready}/${s.desired}`, S.ready)}${cell(serviceHealth(s), S.health)}${cell(s.strategy, S.lb)}${cell(formatPorts(s), Math.max(0, width - fixed))}`;
}

/** Uptime from the engine's start time, else a `started` event seen, else creation (an upper bound). */
export function uptime(state: DashState, service: string, r: ReplicaTableRow, p: ReplicaStatus | undefined): string {
  if (r.state !== 'running') return '-';
  const since = p?.startedAt ?? state.started[rowKey(service, r.replica)] ?? p?.createdAt;
  return since === undefined ? '-' : duration(state.now - since);
}

/** The mesh's word on the replica; `*` while cmesh's start probe passed and Docker's first healthcheck is still due. */
export function healthCell(r: ReplicaTableRow, p: ReplicaStatus | undefined): string {
  return `${replicaHealth(r)}${p?.engineHealth === undefined ? '' : '*'}`;
}

export function replicaLine(service: string, r: ReplicaTableRow, p: ReplicaStatus | undefined, up: string, spark: Spark | undefined, width: number): string {
  const text =
    cell(`  ${service}-${r.replica}`, R.name) +
    cell(r.state, R.state) +
    cell(healthCell(r, p), R.health) +
    cell(up, R.up) +
    cell(String(p?.restarts ?? 0), R.rst, 'right') +
    cell(String(r.inFlight), R.infl, 'right') +
    cell(r.requestsPerSec.toFixed(1), R.rps, 'right') +
    cell(`${ms(r.latency.p50Ms)}/${ms(r.latency.p95Ms)}`, R.lat, 'right') +
    cell(percent(r.errorRate), R.err, 'right');
  const [rps, p95] = sparkRoom(width);
  if (rps === undefined) return text;
  return `${text} ${sparkline(spark?.rps ?? [], rps)}${p95 === undefined ? '' : ` ${sparkline(spark?.p95 ?? [], p95)}`}`;
}

export const SERVICE_HEADER = `${cell('SERVICE', S.name)}${cell('READY', S.ready)}${cell('HEALTH', S.health)}${cell('LB', S.lb)}PORTS`;
export function replicaHeader(width: number): string {
  const [rps, p95] = sparkRoom(width);
  const sparks = rps === undefined ? '' : ` ${cell('RPS 60s', rps)}${p95 === undefined ? '' : ` ${cell('P95 60s', p95)}`}`;
  return `  ${
    cell('  REPLICA', R.name) +
  cell('STATE', R.state) +
  cell('HEALTH', R.health) +
  cell('UP', R.up) +
  cell('RST', R.rst, 'right') +
  cell('INFL', R.infl, 'right') +
  cell('RPS', R.rps, 'right') +
  cell('P50/P95', R.lat, 'right') +
  cell('ERR', R.err, 'right')}${sparks}`;
}

/** A table line: a row, or the replica column header just above a service's first replica. */
type Item = { key: string; row?: Row };

function items(rows: Row[]): Item[] {
  return rows.flatMap((row, i): Item[] => {
    const first = row.replica !== undefined && rows[i - 1]?.replica === undefined;
    return first ? [{ key: `${row.service}#header` }, { key: row.key, row }] : [{ key: row.key, row }];
  });
}

/** Keeps the selected line inside a window of `height` lines. */
function windowed(list: Item[], selected: string | undefined, height: number): Item[] {
  if (list.length <= height) return list;
  const at = Math.max(0, list.findIndex((r) => r.key === selected));
  const start = Math.min(Math.max(0, at - height + 1), list.length - height);
  return list.slice(start, start + height);
}

export function ServicesTable({ state, width, height }: { state: DashState; width: number; height: number }): ReactNode {
  const rows = visibleRows(state);
  const selected = selectedRow(state)?.key;
  const title = state.filter || state.filtering ? `services (filter: ${state.filter})` : 'services';
  return (
    <Box flexDirection="column" height={height}>
      <Line tone={state.focus === 'table' ? 'accent' : 'dim'}>{rule(title, width)}</Line>
      <Line tone="dim">{`  ${SERVICE_HEADER}`}</Line>
      {rows.length === 0 ? <Line tone="dim">{state.connection === 'connected' ? '  no services' : '  waiting for the daemon…'}</Line> : null}
      {windowed(items(rows), selected, Math.max(1, height - 2)).map(({ key, row }) => {
        if (!row) {
          return (
            <Line key={key} tone="dim">
              {replicaHeader(width)}
            </Line>
          );
        }
        const s = state.services.find((x) => x.service === row.service)!;
        const mark = row.key === selected ? '> ' : '  ';
        if (row.replica === undefined) {
          return (
            <Line key={row.key} tone={toneOf(serviceHealth(s))} bold={row.key === selected} inverse={row.key === selected}>
              {mark + serviceLine(s, width)}
            </Line>
          );
        }
        const r = s.replicas.find((x) => x.replica === row.replica)!;
        const mine = state.ps.filter((x) => x.service === row.service && x.replica === row.replica);
        const p = mine.find((x) => x.container === r.container) ?? mine.find((x) => x.state === 'running') ?? mine[0];
        const spark = state.sparks[rowKey(row.service, row.replica)];
        return (
          <Line key={row.key} tone={toneOf(replicaHealth(r))} inverse={row.key === selected}>
            {mark + replicaLine(row.service, r, p, uptime(state, row.service, r, p), spark, width)}
          </Line>
        );
      })}
    </Box>
  );
}
