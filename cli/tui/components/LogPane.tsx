// The log pane: the last lines of the selected service, or of just the selected replica.

import { Box } from 'ink';
import type { ReactNode } from 'react';
import { type DashState, selectedRow } from '../state.ts';
import { rule } from './format.ts';
import { Line } from './theme.tsx';

export function LogPane({ state, width, height }: { state: DashState; width: number; height: number }): ReactNode {
  const row = selectedRow(state);
  const lines = state.logs.filter((l) => l.service === row?.service && (row.replica === undefined || l.replica === row.replica));
  const title = row === undefined ? 'logs' : `logs ${row.replica === undefined ? row.service : `${row.service}-${row.replica}`}`;
  const shown = lines.slice(-Math.max(0, height - 1));
  return (
    <Box flexDirection="column" height={height}>
      <Line tone={state.focus === 'logs' ? 'accent' : 'dim'}>{rule(state.focus === 'logs' ? `${title} (focused, l/esc: back)` : title, width)}</Line>
      {shown.length === 0 ? <Line tone="dim">{'  (no log lines yet)'}</Line> : null}
      {shown.map((l, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a scrolling window of lines; position is the identity.
        <Line key={i} tone={l.stream === 'stderr' ? 'warn' : undefined}>{`${l.service}-${l.replica} | ${l.text}`}</Line>
      ))}
    </Box>
  );
}
