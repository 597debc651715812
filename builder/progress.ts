// Renders 'build' DaemonEvents: one live line per service on a TTY, plain prefixed lines otherwise (CI, pipes).

import type { DaemonEvent } from '../daemon/api/events.ts';

export type BuildEvent = Extract<DaemonEvent, { type: 'build' }>;

export interface ServiceProgress {
  phase: BuildEvent['phase'];
  step?: number;
  total?: number;
  text?: string;
}

const ANSI = { reset: '\u001b[0m', bold: '\u001b[1m', dim: '\u001b[2m', red: '\u001b[31m', green: '\u001b[32m', cyan: '\u001b[36m' };
const paint = (on: boolean, code: string, s: string) => (on ? `${code}${s}${ANSI.reset}` : s);

/** no-color.org: any non-empty NO_COLOR disables colour. */
export function colorEnabled(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  return isTTY && !(env.NO_COLOR !== undefined && env.NO_COLOR !== '');
}

/** Folds one event into a service's state (pure; the TTY view redraws from it). */
export function reduceProgress(prev: ServiceProgress | undefined, e: BuildEvent): ServiceProgress {
  if (e.phase === 'step') return { phase: 'step', step: e.step, total: e.total, text: e.text };
  // Keep the last step on done/failed so the final line still says how far the build got.
  return { ...prev, phase: e.phase, ...(e.text === undefined ? {} : { text: e.text }) };
}

/** `web  [3/7] RUN npm ci` — the TTY line, truncated to the terminal width so redraws never wrap. */
export function formatTtyLine(name: string, width: number, p: ServiceProgress, color: boolean, columns = 0): string {
  const label = paint(color, ANSI.cyan + ANSI.bold, name.padEnd(width));
  let body: string;
  if (p.phase === 'done') body = paint(color, ANSI.green, `✔ ${p.text ?? 'built'}`);
  else if (p.phase === 'failed') body = paint(color, ANSI.red, `✘ ${p.text ?? 'failed'}`);
  else if (p.step !== undefined) body = `${paint(color, ANSI.dim, `[${p.step}/${p.total ?? '?'}]`)} ${oneLine(p.text)}`;
  else body = oneLine(p.text ?? 'starting');
  const line = `${label}  ${body}`;
  // Truncation counts visible characters only; with colour on, cut the plain text then repaint.
  if (columns <= 0 || visibleLength(line) <= columns) return line;
  const plain = formatTtyLine(name, width, p, false);
  return plain.slice(0, Math.max(0, columns - 1)) + '…';
}

/** `web | Step 3/7 : RUN npm ci` — one line per event, for logs and CI (mirrors the classic builder's wording). */
export function formatPlainLine(e: BuildEvent, width = e.service.length): string {
  const prefix = `${e.service.padEnd(width)} | `;
  switch (e.phase) {
    case 'start':
      return `${prefix}${oneLine(e.text ?? 'building')}`;
    case 'step':
      return `${prefix}Step ${e.step ?? '?'}/${e.total ?? '?'} : ${oneLine(e.text)}`;
    case 'done':
      return `${prefix}${oneLine(e.text ?? 'built')}`;
    case 'failed':
      return `${prefix}FAILED: ${oneLine(e.text)}`;
  }
}

function oneLine(text: string | undefined): string {
  return (text ?? '').replace(/\s*\n\s*/g, ' ').trim();
}

function visibleLength(s: string): number {
  return s.replace(/\u001b\[[0-9;]*m/g, '').length;
}

export interface ProgressOutput {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** A tiny writer over the formatters: feed it events, call close() when the builds are over. */
export class BuildProgressWriter {
  readonly #out: ProgressOutput;
  readonly #tty: boolean;
  readonly #color: boolean;
  readonly #state = new Map<string, ServiceProgress>();
  #width: number;
  /** Lines the TTY view currently occupies, so the next redraw can move back over them. */
  #drawn = 0;

  constructor(out: ProgressOutput, options: { env?: NodeJS.ProcessEnv; services?: string[] } = {}) {
    this.#out = out;
    this.#tty = out.isTTY === true;
    this.#color = colorEnabled(options.env ?? process.env, this.#tty);
    this.#width = Math.max(0, ...(options.services ?? []).map((s) => s.length));
    for (const s of options.services ?? []) this.#state.set(s, { phase: 'start', text: 'waiting' });
  }

  handle(event: DaemonEvent): void {
    if (event.type !== 'build') return;
    this.#width = Math.max(this.#width, event.service.length);
    this.#state.set(event.service, reduceProgress(this.#state.get(event.service), event));
    if (this.#tty) this.#redraw();
    else this.#out.write(`${formatPlainLine(event, this.#width)}\n`);
  }

  /** The TTY view stays on screen as the final summary; nothing else to flush. */
  close(): void {
    this.#drawn = 0;
  }

  #redraw(): void {
    const up = this.#drawn > 0 ? `\u001b[${this.#drawn}A` : '';
    const lines = [...this.#state].map(
      ([name, p]) => `\r\u001b[2K${formatTtyLine(name, this.#width, p, this.#color, this.#out.columns ?? 0)}\n`,
    );
    this.#out.write(up + lines.join(''));
    this.#drawn = lines.length;
  }
}
