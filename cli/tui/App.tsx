// The dashboard's frame: a pure function of the state and the terminal size (the Dashboard wrapper feeds both).

import { Box } from 'ink';
import type { ReactNode } from 'react';
import { ErrorScreen } from './components/ErrorScreen.tsx';
import { EventsTicker } from './components/EventsTicker.tsx';
import { Header } from './components/Header.tsx';
import { HelpOverlay } from './components/HelpOverlay.tsx';
import { LogPane } from './components/LogPane.tsx';
import { ServicesTable } from './components/ServicesTable.tsx';
import { StatusLine } from './components/StatusLine.tsx';
import { ColorContext } from './components/theme.tsx';
import { type DashState, visibleRows } from './state.ts';

export interface AppProps {
  state: DashState;
  width: number;
  height: number;
  color: boolean;
}

const MIN_LOGS = 4;

/** Heights of the three panes; everything fits in height - 1 lines so ink never scrolls the terminal. */
export function layout(state: DashState, height: number): { table: number; logs: number; events: number } {
  const body = Math.max(6, height - 1 - 2);
  const events = height >= 28 ? 5 : 4;
  const rest = body - events;
  const rows = visibleRows(state);
  // Rows, the two title lines, and one replica column header per expanded service.
  const headers = rows.filter((r, i) => r.replica !== undefined && rows[i - 1]?.replica === undefined).length;
  const wanted = Math.max(1, rows.length) + 2 + headers;
  const cap = state.focus === 'logs' ? Math.min(5, rest - MIN_LOGS) : rest - MIN_LOGS;
  const table = Math.max(3, Math.min(wanted, cap));
  return { table, logs: Math.max(2, rest - table), events };
}

export function App({ state, width, height, color }: AppProps): ReactNode {
  const w = Math.max(40, width);
  if (state.fatal) {
    return (
      <ColorContext.Provider value={color}>
        <ErrorScreen message={state.fatal.message} hint={state.fatal.hint} width={w} />
      </ColorContext.Provider>
    );
  }
  const h = layout(state, height);
  return (
    <ColorContext.Provider value={color}>
      <Box flexDirection="column" width={w}>
        <Header state={state} />
        {state.help ? (
          <HelpOverlay width={w} height={h.table + h.logs + h.events} />
        ) : (
          <>
            <ServicesTable state={state} width={w} height={h.table} />
            <LogPane state={state} width={w} height={h.logs} />
            <EventsTicker state={state} width={w} height={h.events} />
          </>
        )}
        <StatusLine state={state} />
      </Box>
    </ColorContext.Provider>
  );
}
