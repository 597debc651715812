// The events ticker: the newest health flips, ejections, rollouts and builds, newest last.

import { Box } from 'ink';
import type { ReactNode } from 'react';
import type { DashState } from '../state.ts';
import { rule } from './format.ts';
import { Line } from './theme.tsx';

const clock = (time: number): string => new Date(time).toISOString().slice(11, 19);

export function EventsTicker({ state, width, height }: { state: DashState; width: number; height: number }): ReactNode {
  const shown = state.events.slice(-Math.max(0, height - 1));
  return (
    <Box flexDirection="column" height={height}>
      <Line tone="dim">{rule('events', width)}</Line>
      {shown.length === 0 ? <Line tone="dim">{'  (quiet)'}</Line> : null}
      {shown.map((e, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a scrolling window of lines; position is the identity.
        <Line key={i} tone={e.tone === 'ok' ? 'ok' : e.tone === 'bad' ? 'bad' : undefined}>{`${clock(e.time)} ${e.text}`}</Line>
      ))}
    </Box>
  );
}
