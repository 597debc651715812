// The hottest verb without commander: `cmesh ps [-a|--all] [--json] [service…]` with no global option, on a project
// the project cache (project-cache.ts) answers, runs here before the commander program (its library, ~35 verbs' code
// and option objects: ~15 ms of every start) is even loaded. Anything else — another shape of argv, a cache miss — is
// left to the full CLI untouched, so `--help`, usage errors and their exit codes stay commander's; what runs here
// (the warnings, the request, the table, an error's rendering and exit code) is the same code the `ps` action and
// runCli use, and cli/fast-path.test.ts holds the two paths' outputs equal.

import { ExitCode } from '../daemon/api/errors.ts';
import type { CliContext } from './cli-context.ts';
import { type PsOptions, runPs } from './commands/ps.ts';
import { type GlobalOptions, projectSelection } from './global-options.ts';
import { shouldUseColor } from './output.ts';
import { cachedProject, projectCacheFor } from './project-cache.ts';
import { printLoadWarnings } from './project-ref.ts';
import { renderError } from './render-error.ts';

/** A service name as an operand: nothing commander could read as an option, a `--`, or a value with a special form. */
const SERVICE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const PS_FLAGS: Record<string, keyof PsOptions> = { '-a': 'all', '--all': 'all', '--json': 'json' };

export interface FastPs {
  services: string[];
  opts: PsOptions;
}

/** The parsed `ps` when argv has exactly the shape the fast path takes, else undefined. */
export function fastPsArgs(argv: readonly string[]): FastPs | undefined {
  if (argv[0] !== 'ps') return undefined;
  const services: string[] = [];
  const opts: PsOptions = {};
  for (const arg of argv.slice(1)) {
    const flag = PS_FLAGS[arg];
    if (flag !== undefined) opts[flag] = true;
    else if (SERVICE.test(arg)) services.push(arg);
    else return undefined;
  }
  return { services, opts };
}

/** The exit code when the fast path ran the command, undefined when the full CLI must (nothing was written then). */
export async function runFastPath(argv: readonly string[], ctx: CliContext): Promise<number | undefined> {
  const ps = fastPsArgs(argv);
  const cache = ps && projectCacheFor(ctx.env);
  if (!ps || !cache) return undefined;
  // What readGlobalOptions gives when no global option is on the command line.
  const globals: GlobalOptions = { files: [], envFiles: [], profiles: [], color: true };
  const loaded = cachedProject(cache, projectSelection(globals, ctx.cwd, ctx.env));
  if (!loaded) return undefined;
  try {
    printLoadWarnings(loaded, ctx, globals.color);
    await runPs(loaded.project.name, ps.services, ps.opts, ctx, globals.color);
    return ExitCode.ok;
  } catch (err) {
    // As runCli renders a verb's failure.
    const { text, exitCode } = renderError(err, { json: ps.opts.json === true, color: shouldUseColor(ctx.stderr, { env: ctx.env, color: globals.color }) });
    ctx.stderr.write(text);
    return exitCode;
  }
}
