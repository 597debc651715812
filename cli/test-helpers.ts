// Test helpers for the CLI: an in-memory context whose stdout/stderr are captured strings.

import type { CliContext, CommandOverrides } from './program.ts';
import type { Env } from './output.ts';

export interface CapturedContext extends CliContext {
  out(): string;
  err(): string;
}

export function captureContext(options: { env?: Env; cwd?: string; overrides?: CommandOverrides; tty?: boolean } = {}): CapturedContext {
  let out = '';
  let err = '';
  return {
    stdout: {
      write: (s: string) => {
        out += s;
        return true;
      },
      isTTY: options.tty ?? false,
    },
    stderr: {
      write: (s: string) => {
        err += s;
        return true;
      },
      isTTY: options.tty ?? false,
    },
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    ...(options.overrides ? { overrides: options.overrides } : {}),
    out: () => out,
    err: () => err,
  };
}
