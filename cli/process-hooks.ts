// What the CLI's process sets up before a verb runs, for both entries (cli/main.ts and the fast bundle's
// cli/fast-entry.ts): a closed stdout ends the process quietly, and a stray failure is rendered as the bug it is.

import { ExitCode } from '../daemon/api/errors.ts';
import { renderBug } from './render-error.ts';

function crash(err: unknown): void {
  process.stderr.write(renderBug(err));
  process.exit(ExitCode.bug);
}

/** Once per process: the fast bundle may hand a command on to the full CLI, which installs them too. */
const INSTALLED = Symbol.for('cmesh.processHooks');

export function installProcessHooks(): void {
  const g = globalThis as { [INSTALLED]?: boolean };
  if (g[INSTALLED]) return;
  g[INSTALLED] = true;
  // `cmesh config | head` closes stdout early: that is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? ExitCode.ok);
    else crash(err);
  });
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}
