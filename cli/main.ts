// Process entry (imported by bin/cmesh.js): runs the CLI, sets the exit code, and treats stray failures as bugs.

import { ExitCode } from '../daemon/api/errors.ts';
import { defaultContext, runCli } from './program.ts';
import { renderBug } from './render-error.ts';

function crash(err: unknown): void {
  process.stderr.write(renderBug(err));
  process.exit(ExitCode.bug);
}

// `cmesh config | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? ExitCode.ok);
  else crash(err);
});
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

// exitCode rather than process.exit() so buffered output to pipes is flushed before node exits.
process.exitCode = await runCli(process.argv.slice(2), defaultContext());
