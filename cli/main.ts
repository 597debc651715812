// Process entry (imported by bin/cmesh.js): runs the CLI, sets the exit code, and treats stray failures as bugs.

import { ExitCode } from '../daemon/api/errors.ts';
import { defaultContext } from './cli-context.ts';
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

const argv = process.argv.slice(2);
const ctx = defaultContext();
// Two lazy graphs: `ps` and `up` try the fast path (fast-path.ts) first, everything else goes straight to the
// commander program, so neither pays for compiling the other's modules.
const fast = argv[0] === 'ps' || argv[0] === 'up' ? await (await import('./fast-path.ts')).runFastPath(argv, ctx) : undefined;
const run = async (): Promise<number> => (await import('./program.ts')).runCli(argv, ctx);
// exitCode rather than process.exit() so buffered output to pipes is flushed before node exits.
process.exitCode = fast ?? (await run());
