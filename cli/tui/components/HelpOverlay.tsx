// `?`: the key bindings, drawn in place of the panes until any key is pressed.

import { Box } from 'ink';
import type { ReactNode } from 'react';
import { rule } from './format.ts';
import { Line } from './theme.tsx';

export const KEYS: [string, string][] = [
  ['↑/↓', 'select a service or replica'],
  ['enter', 'expand / collapse a service’s replicas'],
  ['+ / -', 'scale the selected service up / down by one'],
  ['r', 'restart the selected service'],
  ['d', 'drain / undrain the selected replica'],
  ['k', 'kill the selected replica (asks y/n; it is replaced)'],
  ['b', 'rebuild the service and roll it out (up --build)'],
  ['l', 'focus the log pane (selected service or replica)'],
  ['/', 'filter services by name'],
  ['?', 'this help'],
  ['q', 'quit'],
];

export function HelpOverlay({ width, height }: { width: number; height: number }): ReactNode {
  return (
    <Box flexDirection="column" height={height}>
      <Line tone="accent">{rule('help', width)}</Line>
      {KEYS.map(([key, what]) => (
        <Line key={key}>{`  ${key.padEnd(8)} ${what}`}</Line>
      ))}
      <Line tone="dim">{'  health*  cmesh’s start probe passed; Docker’s first healthcheck has not run yet'}</Line>
      <Line tone="dim">{'  any key closes this help'}</Line>
    </Box>
  );
}
