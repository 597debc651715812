// Process entry (imported by bin/launch.mjs): runs the CLI, sets the exit code, and treats stray failures as bugs.

import { defaultContext } from './cli-context.ts';
import { installProcessHooks } from './process-hooks.ts';

installProcessHooks();

const argv = process.argv.slice(2);
const ctx = defaultContext();
// Two lazy graphs: `ps` and `up` try the fast path (fast-path.ts) first, everything else goes straight to the
// commander program, so neither pays for compiling the other's modules.
const fast = argv[0] === 'ps' || argv[0] === 'up' ? await (await import('./fast-path.ts')).runFastPath(argv, ctx) : undefined;
const run = async (): Promise<number> => (await import('./program.ts')).runCli(argv, ctx);
// exitCode rather than process.exit() so buffered output to pipes is flushed before node exits.
process.exitCode = fast ?? (await run());
