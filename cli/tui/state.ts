// The dashboard's state: one pure reducer over daemon snapshots, DaemonEvents, log lines and UI actions.

import type { DaemonInfo, LogFrame, ReplicaStatus, ServiceTableRow } from '../../daemon/api/control.ts';
import type { DaemonEvent } from '../../daemon/api/events.ts';
import { parseReplicaId, replicaId } from '../../daemon/api/labels.ts';
import { summarizeEvent } from './event-line.ts';
import type { TickerLine } from './ticker-line.ts';

/** Seconds of sparkline history per replica (one bucket a second). */
export const SPARK_BUCKETS = 60;
const MAX_LOGS = 200;
const MAX_EVENTS = 50;

export type Connection = 'connecting' | 'connected' | 'reconnecting';

export interface Spark {
  /** Epoch second of the last bucket. */
  second: number;
  rps: number[];
  p95: number[];
}

export interface LogLine {
  service: string;
  replica: number;
  stream: 'stdout' | 'stderr';
  text: string;
}

export type Confirm = { kind: 'kill'; service: string; replica: number };

export interface DashState {
  project: string;
  connection: Connection;
  /** Why the last connection attempt failed, while reconnecting. */
  connectionError?: string;
  /** Unrecoverable: the project does not exist etc.; the App shows an error screen with the hint. */
  fatal?: { message: string; hint?: string };
  info?: DaemonInfo;
  services: ServiceTableRow[];
  ps: ReplicaStatus[];
  /** Epoch ms of the last services snapshot (uptime is computed against it, so frames stay pure). */
  now: number;
  /** Selected row key: `service` or `service#replica`. */
  selected?: string;
  expanded: string[];
  filter: string;
  filtering: boolean;
  focus: 'table' | 'logs';
  help: boolean;
  confirm?: Confirm;
  /** The last action's outcome, shown inline. */
  result?: { ok: boolean; text: string };
  pending?: string;
  logs: LogLine[];
  events: TickerLine[];
  sparks: Record<string, Spark>;
  /** Start times seen as `container started` events, by `service#replica` (the engine's list has none). */
  started: Record<string, number>;
}

export type Action =
  | { type: 'snapshot'; time: number; services: ServiceTableRow[]; ps: ReplicaStatus[] }
  | { type: 'info'; info: DaemonInfo }
  | { type: 'event'; event: DaemonEvent }
  | { type: 'log'; frame: Pick<LogFrame, 'service' | 'replica' | 'stream' | 'text'> }
  | { type: 'logs-reset' }
  | { type: 'connection'; state: Connection; error?: string }
  | { type: 'fatal'; message: string; hint?: string }
  | { type: 'move'; by: number }
  | { type: 'toggle-expand' }
  | { type: 'filter-start' }
  | { type: 'filter-input'; text: string }
  | { type: 'filter-end'; keep: boolean }
  | { type: 'focus'; focus: 'table' | 'logs' }
  | { type: 'help'; show?: boolean }
  | { type: 'confirm'; confirm?: Confirm }
  | { type: 'pending'; text: string }
  | { type: 'result'; ok: boolean; text: string };

export function initialState(project: string): DashState {
  return {
    project,
    connection: 'connecting',
    services: [],
    ps: [],
    now: 0,
    expanded: [],
    filter: '',
    filtering: false,
    focus: 'table',
    help: false,
    logs: [],
    events: [],
    sparks: {},
    started: {},
  };
}

/** One row of the table: a service, or (when its service is expanded) one of its replicas. */
export interface Row {
  key: string;
  service: string;
  replica?: number;
}

export const rowKey = (service: string, replica?: number): string => (replica === undefined ? service : replicaId(service, replica));

export function visibleServices(state: DashState): ServiceTableRow[] {
  const f = state.filter.toLowerCase();
  return f === '' ? state.services : state.services.filter((s) => s.service.toLowerCase().includes(f));
}

export function visibleRows(state: DashState): Row[] {
  return visibleServices(state).flatMap((s): Row[] => [
    { key: s.service, service: s.service },
    ...(state.expanded.includes(s.service) ? s.replicas.map((r) => ({ key: rowKey(s.service, r.replica), service: s.service, replica: r.replica })) : []),
  ]);
}

/** The selected row, falling back to the first visible one (the selection may have vanished with a scale down). */
export function selectedRow(state: DashState): Row | undefined {
  const rows = visibleRows(state);
  return rows.find((r) => r.key === state.selected) ?? rows.find((r) => r.service === (parseReplicaId(state.selected ?? '')?.service ?? state.selected)) ?? rows[0];
}

function shift(values: number[], by: number): number[] {
  if (by <= 0) return values;
  if (by >= SPARK_BUCKETS) return new Array<number>(SPARK_BUCKETS).fill(0);
  return [...values.slice(by), ...new Array<number>(by).fill(0)];
}

/** One bucket per second per replica: rps and p95 of each snapshot land in the bucket of its second. */
export function recordSparks(sparks: Record<string, Spark>, services: ServiceTableRow[], time: number): Record<string, Spark> {
  const second = Math.floor(time / 1000);
  const next: Record<string, Spark> = {};
  for (const s of services) {
    for (const r of s.replicas) {
      const key = rowKey(s.service, r.replica);
      const old = sparks[key] ?? { second, rps: new Array<number>(SPARK_BUCKETS).fill(0), p95: new Array<number>(SPARK_BUCKETS).fill(0) };
      const rps = shift(old.rps, second - old.second);
      const p95 = shift(old.p95, second - old.second);
      rps[SPARK_BUCKETS - 1] = r.requestsPerSec;
      p95[SPARK_BUCKETS - 1] = r.latency.p95Ms ?? 0;
      next[key] = { second: Math.max(second, old.second), rps, p95 };
    }
  }
  return next;
}

function push<T>(list: T[], item: T, max: number): T[] {
  return list.length >= max ? [...list.slice(list.length - max + 1), item] : [...list, item];
}

function move(state: DashState, by: number): DashState {
  const rows = visibleRows(state);
  if (rows.length === 0) return state;
  const current = selectedRow(state);
  const at = Math.max(0, rows.findIndex((r) => r.key === current?.key));
  const next = rows[Math.min(rows.length - 1, Math.max(0, at + by))]!;
  return { ...state, selected: next.key };
}

function toggleExpand(state: DashState): DashState {
  const row = selectedRow(state);
  if (!row) return state;
  const open = state.expanded.includes(row.service);
  return {
    ...state,
    expanded: open ? state.expanded.filter((s) => s !== row.service) : [...state.expanded, row.service],
    // Collapsing moves the selection up to the service so it never points at a hidden row.
    selected: open ? row.service : row.key,
  };
}

export function reduce(state: DashState, action: Action): DashState {
  switch (action.type) {
    case 'snapshot':
      return {
        ...state,
        services: action.services,
        ps: action.ps,
        now: action.time,
        sparks: recordSparks(state.sparks, action.services, action.time),
        connection: 'connected',
        connectionError: undefined,
      };
    case 'info':
      return { ...state, info: action.info };
    case 'event': {
      const e = action.event;
      const started = e.type === 'container' && e.action === 'started' ? { ...state.started, [rowKey(e.service, e.replica)]: e.time } : state.started;
      const line = summarizeEvent(e);
      return { ...state, started, events: line ? push(state.events, line, MAX_EVENTS) : state.events };
    }
    case 'log':
      return { ...state, logs: push(state.logs, { ...action.frame, text: action.frame.text.replace(/\s+$/, '') }, MAX_LOGS) };
    case 'logs-reset':
      return { ...state, logs: [] };
    case 'connection':
      return { ...state, connection: action.state, connectionError: action.error };
    case 'fatal':
      return { ...state, fatal: { message: action.message, ...(action.hint ? { hint: action.hint } : {}) } };
    case 'move':
      return move(state, action.by);
    case 'toggle-expand':
      return toggleExpand(state);
    case 'filter-start':
      return { ...state, filtering: true, filter: '' };
    case 'filter-input':
      return { ...state, filter: action.text };
    case 'filter-end':
      return { ...state, filtering: false, filter: action.keep ? state.filter : '' };
    case 'focus':
      return { ...state, focus: action.focus };
    case 'help':
      return { ...state, help: action.show ?? !state.help };
    case 'confirm':
      return { ...state, confirm: action.confirm };
    case 'pending':
      return { ...state, pending: action.text, result: undefined };
    case 'result':
      return { ...state, pending: undefined, result: { ok: action.ok, text: action.text } };
  }
}
