// Plain-text formatting for the dashboard's cells: fixed widths, sparklines, durations. No colour, no React.

const BARS = '▁▂▃▄▅▆▇█';

/** Pads or cuts `text` to exactly `width` columns (an ellipsis marks a cut). */
export function cell(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  if (text.length > width) return width === 1 ? '…' : `${text.slice(0, width - 1)}…`;
  return align === 'left' ? text.padEnd(width) : text.padStart(width);
}

/** The last `width` values as bars scaled to their max; idle (all zero) is a flat baseline. */
export function sparkline(values: readonly number[], width: number): string {
  if (width <= 0) return '';
  const tail = values.slice(-width);
  const max = Math.max(0, ...tail);
  const bars = tail.map((v) => (max <= 0 || v <= 0 ? ' ' : BARS[Math.min(BARS.length - 1, Math.floor((v / max) * (BARS.length - 1) + 0.5))]!));
  return bars.join('').padStart(width);
}

export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}

export const ms = (v: number | null): string => (v === null ? '-' : v < 10 ? v.toFixed(1) : String(Math.round(v)));

export const percent = (rate: number): string => `${(rate * 100).toFixed(rate > 0 && rate < 0.1 ? 1 : 0)}%`;

/** A titled separator line: `── title ───────`. */
export function rule(title: string, width: number): string {
  const head = `── ${title} `;
  return cell(head + '─'.repeat(Math.max(0, width - head.length)), width);
}
