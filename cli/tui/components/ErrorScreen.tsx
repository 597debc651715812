// Full-screen error (e.g. an unknown project) with the fix, instead of an empty dashboard.

import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { rule } from './format.ts';
import { Line } from './theme.tsx';

export function ErrorScreen({ message, hint, width }: { message: string; hint?: string | undefined; width: number }): ReactNode {
  return (
    <Box flexDirection="column">
      <Line tone="bad">{rule('cmesh dash: error', width)}</Line>
      <Box width={width} flexDirection="column">
        <Text wrap="wrap">{message}</Text>
        {hint ? <Text wrap="wrap">{`fix: ${hint}`}</Text> : null}
      </Box>
      <Line tone="dim">{'q quits'}</Line>
    </Box>
  );
}
