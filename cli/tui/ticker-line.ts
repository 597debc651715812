// One line of the dashboard's event ticker: its own module so state.ts (which keeps them) and event-line.ts (which
// makes them) don't import each other.

export interface TickerLine {
  time: number;
  text: string;
  tone: 'ok' | 'bad' | 'info';
}
