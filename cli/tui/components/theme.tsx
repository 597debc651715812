// Colour on or off for the whole tree (NO_COLOR / --no-color): components ask for a tone, never a raw colour.

import { Text } from 'ink';
import { createContext, type ReactNode, useContext } from 'react';

export const ColorContext = createContext(true);

export type Tone = 'ok' | 'bad' | 'warn' | 'info' | 'dim' | 'accent';

const colors: Record<Tone, string> = { ok: 'green', bad: 'red', warn: 'yellow', info: 'cyan', dim: 'gray', accent: 'cyan' };

/** One line of text, cut (never wrapped) at the box edge; colour and inverse only when colour is on. */
export function Line(props: { children: ReactNode; tone?: Tone | undefined; bold?: boolean; inverse?: boolean }): ReactNode {
  const color = useContext(ColorContext);
  return (
    <Text
      wrap="truncate-end"
      {...(color && props.tone ? { color: colors[props.tone] } : {})}
      {...(color && props.bold ? { bold: true } : {})}
      {...(color && props.inverse ? { inverse: true } : {})}
    >
      {props.children}
    </Text>
  );
}

/** An inline coloured span inside a Line. */
export function Span(props: { children: ReactNode; tone?: Tone | undefined }): ReactNode {
  const color = useContext(ColorContext);
  return <Text {...(color && props.tone ? { color: colors[props.tone] } : {})}>{props.children}</Text>;
}
