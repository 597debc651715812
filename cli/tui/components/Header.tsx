// Top line: project, daemon pid/version, engine status and the connection state.

import { Box } from 'ink';
import type { ReactNode } from 'react';
import type { DashState } from '../state.ts';
import { Line, Span } from './theme.tsx';

export function Header({ state }: { state: DashState }): ReactNode {
  const { info } = state;
  const engine = info === undefined ? 'engine ?' : info.engine.ok ? `engine ok ${info.engine.info.version}` : 'engine DOWN';
  const daemon = info === undefined ? 'daemon ?' : `daemon pid ${info.pid} v${info.version}`;
  const conn = state.connection === 'connected' ? 'connected' : state.connection === 'reconnecting' ? 'reconnecting…' : 'connecting…';
  return (
    <Box flexDirection="column">
      <Line>
        {/* The connection state comes first so a narrow terminal never cuts it off. */}
        <Span tone="accent">cmesh dash</Span> · <Span tone={state.connection === 'connected' ? 'ok' : 'warn'}>{conn}</Span> · project{' '}
        <Span tone="info">{state.project}</Span> · {daemon} · <Span tone={info?.engine.ok === false ? 'bad' : undefined}>{engine}</Span>
      </Line>
    </Box>
  );
}
