// The bottom line: a confirmation prompt, the filter being typed, the last action's outcome, or the key hints.

import type { ReactNode } from 'react';
import type { DashState } from '../state.ts';
import { Line } from './theme.tsx';

export const HINTS = '↑↓ select  enter expand  +/- scale  r restart  k kill  l logs  ? help  q quit';

export function StatusLine({ state }: { state: DashState }): ReactNode {
  if (state.confirm) return <Line tone="warn" bold>{`kill ${state.confirm.service}-${state.confirm.replica}? (SIGKILL; a new replica replaces it)  [y/n]`}</Line>;
  if (state.filtering) return <Line tone="accent">{`filter: ${state.filter}▏ (enter keep, esc clear)`}</Line>;
  if (state.pending) return <Line tone="info">{state.pending}</Line>;
  if (state.result) return <Line tone={state.result.ok ? 'ok' : 'bad'}>{`${state.result.ok ? '✓' : '✗'} ${state.result.text}`}</Line>;
  return <Line tone="dim">{HINTS}</Line>;
}
