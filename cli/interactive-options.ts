// What `exec` and `run` share: `-e KEY=VAL` parsing, the TTY decision, and one session through the daemon.

import { CmeshError } from '../daemon/api/errors.ts';
import { ChildExit } from './child-exit.ts';
import type { CliContext } from './cli-context.ts';
import type { DaemonClient } from './daemon-client.ts';
import { type InStream, runIoSession } from './io-session.ts';
import type { Env } from './output.ts';

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `-e KEY=VAL`, or `-e KEY` to pass the variable from cmesh's own environment (skipped when unset), like Compose. */
export function parseEnvFlags(flags: readonly string[], env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const at = flag.indexOf('=');
    const key = at < 0 ? flag : flag.slice(0, at);
    if (!/^[^\s=]+$/.test(key)) {
      throw new CmeshError('CMESH_E_USAGE', `-e ${flag}: not KEY=VALUE`, { hint: 'write -e NAME=value, or -e NAME to pass NAME from your environment' });
    }
    const value = at < 0 ? env[key] : flag.slice(at + 1);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

export function parseIndex(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CmeshError('CMESH_E_USAGE', `--index ${value}: not a replica number`, { hint: 'replicas count from 1' });
  return n;
}

export function stdinOf(ctx: CliContext): InStream {
  return ctx.stdin ?? process.stdin;
}

/** A TTY only when asked for (no -T) and both ends are terminals, as Compose decides. */
export function wantsTty(ctx: CliContext, noTtyFlag: boolean): boolean {
  return !noTtyFlag && stdinOf(ctx).isTTY === true && ctx.stdout.isTTY === true;
}

/** Opens the upgrade `path`, runs the session, and turns a non-zero exit code into cmesh's own. */
export async function runSession(client: DaemonClient, ctx: CliContext, path: string, o: { tty: boolean; stdin: boolean }): Promise<void> {
  const socket = await client.upgrade(path);
  const exitCode = await runIoSession({
    socket,
    ...(o.stdin ? { stdin: stdinOf(ctx) } : {}),
    stdout: ctx.stdout,
    stderr: ctx.stderr,
    tty: o.tty,
  });
  if (exitCode !== 0) throw new ChildExit(exitCode);
}

/** `?request=` + the JSON, as the upgrade and archive routes read it. */
export function withRequest(path: string, request: unknown): string {
  return `${path}?request=${encodeURIComponent(JSON.stringify(request))}`;
}
