// `service-n | ` prefixes for multiplexed logs, aligned like Compose, with a stable colour per service on a TTY.

import type { LogFrame } from '../daemon/api/control.ts';
import { type ColorName, createColors } from './output.ts';

const PALETTE: ColorName[] = ['cyan', 'yellow', 'green', 'magenta', 'blue'];

/** FNV-1a: the same service gets the same colour in every run and every terminal. */
function colorIndex(service: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < service.length; i++) {
    h ^= service.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % PALETTE.length;
}

export class LogPrefixer {
  readonly #colors;
  readonly #color: boolean;
  #width: number;

  /** `services` lets the first lines align already; names seen later widen the column. */
  constructor(options: { color: boolean; services?: string[]; maxReplica?: number }) {
    this.#color = options.color;
    this.#colors = createColors(options.color);
    const digits = String(options.maxReplica ?? 1).length;
    this.#width = Math.max(0, ...(options.services ?? []).map((s) => s.length + 1 + digits));
  }

  prefix(service: string, replica: number): string {
    const label = `${service}-${replica}`;
    this.#width = Math.max(this.#width, label.length);
    const text = `${label.padEnd(this.#width)} | `;
    return this.#color ? this.#colors[PALETTE[colorIndex(service)]!](text) : text;
  }

  format(frame: LogFrame, options: { timestamps: boolean }): string {
    const time = options.timestamps ? `${new Date(frame.time).toISOString()} ` : '';
    return `${this.prefix(frame.service, frame.replica)}${time}${frame.text.replace(/\r?\n$/, '')}\n`;
  }

  get color(): boolean {
    return this.#color;
  }
}
