// Keys → reducer actions plus at most one effect (a control API call, or quit). Pure, so every binding is testable.

import { type Action, type DashState, type Row, selectedRow } from './state.ts';

export type Effect =
  | { kind: 'scale'; service: string; replicas: number }
  | { kind: 'restart'; service: string }
  | { kind: 'drain'; service: string; replica: number; drained: boolean }
  | { kind: 'kill'; service: string; replica: number }
  | { kind: 'build'; service: string }
  | { kind: 'quit' };

/** The subset of ink's Key the bindings read. */
export interface KeyInfo {
  upArrow?: boolean;
  downArrow?: boolean;
  return?: boolean;
  escape?: boolean;
  backspace?: boolean;
  delete?: boolean;
  ctrl?: boolean;
}

export interface KeyOutcome {
  actions: Action[];
  effect?: Effect;
}

const none: KeyOutcome = { actions: [] };
const fail = (text: string): KeyOutcome => ({ actions: [{ type: 'result', ok: false, text }] });

function replicaOf(row: Row | undefined): { service: string; replica: number } | undefined {
  return row?.replica === undefined ? undefined : { service: row.service, replica: row.replica };
}

function onFilter(state: DashState, input: string, key: KeyInfo): KeyOutcome {
  if (key.escape) return { actions: [{ type: 'filter-end', keep: false }] };
  if (key.return) return { actions: [{ type: 'filter-end', keep: true }] };
  if (key.backspace || key.delete) return { actions: [{ type: 'filter-input', text: state.filter.slice(0, -1) }] };
  if (input && !key.ctrl && /^[\w.-]+$/.test(input)) return { actions: [{ type: 'filter-input', text: state.filter + input }] };
  return none;
}

function onConfirm(state: DashState, input: string, key: KeyInfo): KeyOutcome {
  const c = state.confirm!;
  if (input === 'y' || input === 'Y') {
    return {
      actions: [{ type: 'confirm' }, { type: 'pending', text: `killing ${c.service}-${c.replica}…` }],
      effect: { kind: 'kill', service: c.service, replica: c.replica },
    };
  }
  if (input === 'n' || input === 'N' || key.escape) return { actions: [{ type: 'confirm' }, { type: 'result', ok: true, text: 'kill cancelled' }] };
  return none;
}

export function handleKey(state: DashState, input: string, key: KeyInfo): KeyOutcome {
  const quit = input === 'q' || (key.ctrl === true && input === 'c');
  if (state.fatal) return quit || key.escape ? { actions: [], effect: { kind: 'quit' } } : none;
  if (key.ctrl && input === 'c') return { actions: [], effect: { kind: 'quit' } };
  if (state.confirm) return onConfirm(state, input, key);
  if (state.filtering) return onFilter(state, input, key);
  if (state.help) return quit ? { actions: [], effect: { kind: 'quit' } } : { actions: [{ type: 'help', show: false }] };
  if (quit) return { actions: [], effect: { kind: 'quit' } };
  if (key.upArrow) return { actions: [{ type: 'move', by: -1 }] };
  if (key.downArrow) return { actions: [{ type: 'move', by: 1 }] };
  if (key.return) return { actions: [{ type: 'toggle-expand' }] };
  if (key.escape) return { actions: [{ type: 'focus', focus: 'table' }, { type: 'filter-end', keep: false }] };
  if (input === '?') return { actions: [{ type: 'help', show: true }] };
  if (input === '/') return { actions: [{ type: 'filter-start' }] };
  if (input === 'l') return { actions: [{ type: 'focus', focus: state.focus === 'logs' ? 'table' : 'logs' }] };

  const row = selectedRow(state);
  const service = row ? state.services.find((s) => s.service === row.service) : undefined;
  if (!['+', '=', '-', 'r', 'd', 'k', 'b'].includes(input)) return none;
  if (!row || !service) return fail('no service selected');
  switch (input) {
    case '+':
    case '=':
    case '-': {
      const replicas = Math.max(0, service.desired + (input === '-' ? -1 : 1));
      if (replicas === service.desired) return fail(`${service.service} is already at 0 replicas`);
      return {
        actions: [{ type: 'pending', text: `scaling ${service.service} to ${replicas}…` }],
        effect: { kind: 'scale', service: service.service, replicas },
      };
    }
    case 'r':
      return { actions: [{ type: 'pending', text: `restarting ${service.service}…` }], effect: { kind: 'restart', service: service.service } };
    case 'b':
      return { actions: [{ type: 'pending', text: `rebuilding ${service.service}…` }], effect: { kind: 'build', service: service.service } };
    case 'd': {
      const ref = replicaOf(row);
      if (!ref) return fail('select a replica to drain (enter expands a service)');
      const drained = !(service.replicas.find((r) => r.replica === ref.replica)?.draining ?? false);
      return { actions: [{ type: 'pending', text: `${drained ? 'draining' : 'undraining'} ${ref.service}-${ref.replica}…` }], effect: { kind: 'drain', ...ref, drained } };
    }
    default: {
      const ref = replicaOf(row);
      if (!ref) return fail('select a replica to kill (enter expands a service)');
      return { actions: [{ type: 'confirm', confirm: { kind: 'kill', ...ref } }] };
    }
  }
}
