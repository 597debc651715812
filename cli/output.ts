// Terminal output helpers shared by every verb: colour detection, tiny colour functions, aligned tables, JSON.

/** The part of a stream we write to; process.stdout/stderr and test capture buffers both fit. */
export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export type Env = Record<string, string | undefined>;

export interface ColorOptions {
  /** False when the user passed `--no-color`. */
  color?: boolean;
  env?: Env;
}

function truthy(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/**
 * Whether to emit ANSI colour on `stream`. Precedence, strongest first: `--no-color`, NO_COLOR (any non-empty value,
 * see no-color.org), FORCE_COLOR (non-empty and not 0/false forces colour, 0/false disables it), CI=true, TERM=dumb,
 * then whether the stream is a TTY.
 */
export function shouldUseColor(stream: OutStream, options: ColorOptions = {}): boolean {
  const env = options.env ?? process.env;
  if (options.color === false) return false;
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  const force = env['FORCE_COLOR'];
  if (force !== undefined) return truthy(force) || force === '';
  if (truthy(env['CI'])) return false;
  if (env['TERM'] === 'dumb') return false;
  return stream.isTTY === true;
}

/**
 * Alias of shouldUseColor under the name first planned. Prefer shouldUseColor: Biome's React hook rule
 * (useHookAtTopLevel) flags any call to a `use*` function outside a component, conditional calls included.
 */
export const useColor = shouldUseColor;

/** Whether live progress (spinners, redraws) makes sense: a TTY outside CI. */
export function isInteractive(stream: OutStream, env: Env = process.env): boolean {
  return stream.isTTY === true && !truthy(env['CI']) && env['TERM'] !== 'dumb';
}

const codes = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  gray: [90, 39],
} as const;

export type ColorName = keyof typeof codes;
export type Colors = Record<ColorName, (text: string) => string>;

/**
 * Colour functions that are identity when disabled. Node 20's util.styleText exists but ignores NO_COLOR and the
 * target stream, so a table of SGR codes is simpler than working around it.
 */
export function createColors(enabled: boolean): Colors {
  const out = {} as Colors;
  for (const [name, [open, close]] of Object.entries(codes) as [ColorName, readonly [number, number]][]) {
    out[name] = enabled ? (text) => `\u001b[${open}m${text}\u001b[${close}m` : (text) => text;
  }
  return out;
}

/** Colours for a stream, decided once by `shouldUseColor`. */
export function colorsFor(stream: OutStream, options: ColorOptions = {}): Colors {
  return createColors(shouldUseColor(stream, options));
}

const ansiPattern = /\u001b\[[0-9;]*m/g;

export function stripAnsi(text: string): string {
  return text.replace(ansiPattern, '');
}

/** Display width, ignoring colour codes. Good enough for the ASCII/Latin text cmesh prints. */
export function visibleWidth(text: string): number {
  return stripAnsi(text).length;
}

export interface Column<Row> {
  header: string;
  /** Cell text; defaults to `String(row[key])` when `key` is given. */
  value?: (row: Row) => string;
  key?: keyof Row & string;
  align?: 'left' | 'right';
}

function cellText<Row>(row: Row, column: Column<Row>): string {
  if (column.value) return column.value(row);
  if (column.key !== undefined) {
    const raw = row[column.key];
    return raw === undefined || raw === null ? '' : String(raw);
  }
  return '';
}

/**
 * An aligned human table like `docker ps`: upper-case headers, columns separated by three spaces, no trailing
 * whitespace. Cells may carry colour codes; alignment uses their visible width.
 */
export function formatTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const cells = [columns.map((c) => c.header.toUpperCase()), ...rows.map((row) => columns.map((c) => cellText(row, c)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => visibleWidth(line[i] ?? ''))));
  const lines = cells.map((line) =>
    line
      .map((cell, i) => {
        const pad = ' '.repeat((widths[i] ?? 0) - visibleWidth(cell));
        const isLast = i === line.length - 1;
        if (columns[i]?.align === 'right') return pad + cell;
        return isLast ? cell : cell + pad;
      })
      .join('   ')
      .trimEnd(),
  );
  return lines.join('\n') + '\n';
}

export function printTable<Row>(
  rows: readonly Row[],
  columns: readonly Column<Row>[],
  stream: OutStream = process.stdout,
): void {
  stream.write(formatTable(rows, columns));
}

/** Machine output: pretty JSON plus a newline, so `jq` and humans both read it. */
export function printJson(value: unknown, stream: OutStream = process.stdout): void {
  stream.write(JSON.stringify(value, null, 2) + '\n');
}

/** Writes lines, adding the trailing newline each one needs. */
export function printLines(lines: readonly string[], stream: OutStream = process.stdout): void {
  if (lines.length > 0) stream.write(lines.join('\n') + '\n');
}
