// Renders 'pull' DaemonEvents: one live line per service on a TTY, one final line per image otherwise (CI, pipes).

import { colorEnabled } from '../builder/progress.ts';
import type { DaemonEvent } from '../daemon/api/events.ts';

export type PullEvent = Extract<DaemonEvent, { type: 'pull' }>;

interface Output {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const ANSI = { reset: '\u001b[0m', bold: '\u001b[1m', red: '\u001b[31m', green: '\u001b[32m', yellow: '\u001b[33m', cyan: '\u001b[36m', dim: '\u001b[2m' };

/** `db  ✔ pulled postgres:16 in 3.1s (5 layers)` — the same words on a TTY (live) and in plain output (final only). */
export function formatPullLine(e: PullEvent, width: number, color: boolean): string {
  const paint = (code: string, s: string) => (color ? `${code}${s}${ANSI.reset}` : s);
  const name = paint(ANSI.cyan + ANSI.bold, e.service.padEnd(width));
  const text = (e.text ?? e.image).replace(/\s*\n\s*/g, ' ');
  switch (e.phase) {
    case 'done':
      return `${name}  ${paint(ANSI.green, `✔ ${text}`)}`;
    case 'failed':
      return `${name}  ${paint(ANSI.red, `✘ ${text}`)}`;
    case 'skipped':
      return `${name}  ${paint(ANSI.dim, `- skipped ${e.image}: ${text}`)}`;
    default:
      return `${name}  ${paint(ANSI.yellow, '…')} ${e.phase === 'start' ? text : `${e.image}  ${text}`}`;
  }
}

export class PullProgressWriter {
  readonly #out: Output;
  readonly #tty: boolean;
  readonly #color: boolean;
  readonly #quiet: boolean;
  readonly #lines = new Map<string, PullEvent>();
  #width = 0;
  #drawn = 0;

  constructor(out: Output, options: { env?: NodeJS.ProcessEnv; quiet?: boolean } = {}) {
    this.#out = out;
    this.#tty = out.isTTY === true;
    this.#color = colorEnabled(options.env ?? process.env, this.#tty);
    this.#quiet = options.quiet === true;
  }

  handle(event: DaemonEvent): void {
    if (event.type !== 'pull' || this.#quiet) return;
    this.#width = Math.max(this.#width, event.service.length);
    this.#lines.set(event.service, event);
    if (this.#tty) this.#redraw();
    // Plain output: one line per image when its pull ends (start and progress would be noise in a CI log).
    else if (event.phase === 'done' || event.phase === 'failed' || event.phase === 'skipped') {
      this.#out.write(`${formatPullLine(event, this.#width, false)}\n`);
    }
  }

  close(): void {
    this.#drawn = 0;
  }

  #redraw(): void {
    const up = this.#drawn > 0 ? `\u001b[${this.#drawn}A` : '';
    const columns = this.#out.columns ?? 0;
    const lines = [...this.#lines.values()].map((e) => {
      const line = formatPullLine(e, this.#width, this.#color);
      const plain = formatPullLine(e, this.#width, false);
      const fitted = columns > 0 && plain.length > columns ? `${plain.slice(0, columns - 1)}…` : line;
      return `\r\u001b[2K${fitted}\n`;
    });
    this.#out.write(up + lines.join(''));
    this.#drawn = lines.length;
  }
}
