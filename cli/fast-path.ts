// The hottest verbs without commander: `cmesh ps [-a|--all] [--json] [service…]` on a project the project cache
// (project-cache.ts) answers, and `cmesh up -d|--wait [--timeout N] [service…]`, both with no global option but
// leading `-p`/`-f` (see fastGlobals), run here before the commander
// program (its library, ~35 verbs' code and option objects: ~15 ms of every start) is even loaded. Anything else —
// another shape of argv, a `ps` the cache cannot answer — is left to the full CLI untouched, so `--help`, usage
// errors and their exit codes stay commander's; what runs here (the warnings, the request, the output, an error's
// rendering and exit code) is the code the `ps` and `up` actions and runCli run, and cli/fast-path.test.ts holds the
// two paths' outputs equal.

import { FAST_GLOBALS } from '../bin/start-check.cjs';
import { ExitCode } from '../daemon/api/errors.ts';
import type { LoadedProject } from '../daemon/api/project.ts';
import type { CliContext } from './cli-context.ts';
import { type PsOptions, runPs } from './commands/ps.ts';
import { runUp, type UpOptions } from './commands/up.ts';
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

/**
 * `up` with `-d`/`--detach` and/or `--wait` (each once or more), `--timeout SECONDS` at most once, and services: what
 * commander parses it to, else undefined. `--wait` is CI's `up -d --wait`; its verdict code (cli/ci/ci-wait.ts) is in
 * the fast bundle, loaded only then. `--timeout`'s value is checked by runUp on both paths, as commander leaves it.
 */
export function fastUpArgs(argv: readonly string[]): { services: string[]; opts: UpOptions } | undefined {
  if (argv[0] !== 'up') return undefined;
  const services: string[] = [];
  let detach = false;
  let wait = false;
  let timeout: string | undefined;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-d' || arg === '--detach') detach = true;
    else if (arg === '--wait') wait = true;
    else if (arg === '--timeout' && timeout === undefined && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) timeout = argv[++i]!;
    else if (SERVICE.test(arg)) services.push(arg);
    else return undefined;
  }
  if (!detach && !wait) return undefined;
  // The `--timeout` default commander fills in (cli/commands/up.ts).
  return { services, opts: { ...(detach ? { detach } : {}), ...(wait ? { wait } : {}), timeout: timeout ?? '120' } };
}

/** What readGlobalOptions gives when no global option is on the command line. */
const NO_GLOBALS: GlobalOptions = { files: [], envFiles: [], profiles: [], color: true };

/**
 * Leading `-p/--project-name NAME` and `-f/--file PATH` (repeatable; the list bin/cmesh.js also reads: FAST_GLOBALS in
 * bin/start-check.cjs), as CI scripts call `cmesh -p x -f f.yaml up -d`:
 * what readGlobalOptions gives for them, and the verb's argv after them. Any other global, a second `-p`, a value that
 * starts with `-` or a joined form (`-pX`, `--file=x`) is left to commander.
 */
export function fastGlobals(argv: readonly string[]): { globals: GlobalOptions; rest: readonly string[] } | undefined {
  const files: string[] = [];
  let projectName: string | undefined;
  let i = 0;
  for (; i < argv.length; i += 2) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (!flag.startsWith('-')) break;
    if (value === undefined || value === '' || value.startsWith('-')) return undefined;
    const sets = FAST_GLOBALS.get(flag);
    if (sets === 'file') files.push(value);
    else if (sets === 'projectName' && projectName === undefined) projectName = value;
    else return undefined;
  }
  if (i === 0) return { globals: NO_GLOBALS, rest: argv };
  return { globals: { ...NO_GLOBALS, files, ...(projectName === undefined ? {} : { projectName }) }, rest: argv.slice(i) };
}

/**
 * What a dynamic import outside the fast bundle throws (bin/bundle-build-options.mjs): the fast bundle then hands the
 * command to the full CLI, which it may do only while nothing was written (cli/fast-entry.ts).
 */
export const FAST_PATH_MISS = 'CMESH_FAST_PATH_MISS';

/** A miss, or the daemon client's protocol error caused by one (cli/fast-http.ts: a response it cannot read). */
export const isMiss = (err: unknown): boolean => {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  return e?.code === FAST_PATH_MISS || e?.cause?.code === FAST_PATH_MISS;
};

export interface FastPathOptions {
  /** `up -d` only on a project the project cache answers (the fast bundle holds no compose loader). */
  cachedOnly?: boolean;
}

/** The exit code when the fast path ran the command, undefined when the full CLI must (nothing was written then). */
export async function runFastPath(fullArgv: readonly string[], ctx: CliContext, options: FastPathOptions = {}): Promise<number | undefined> {
  const selected = fastGlobals(fullArgv);
  if (selected === undefined) return undefined;
  const { globals, rest: argv } = selected;
  const cached = (): LoadedProject | undefined => {
    const cache = projectCacheFor(ctx.env);
    return cache && cachedProject(cache, projectSelection(globals, ctx.cwd, ctx.env));
  };
  const up = fastUpArgs(argv);
  if (up && options.cachedOnly && !cached()) return undefined;
  if (up) return settle(() => runUp(up.services, up.opts, globals, ctx), false, ctx);
  const ps = fastPsArgs(argv);
  const loaded = ps && cached();
  if (!ps || !loaded) return undefined;
  return settle(
    async () => {
      printLoadWarnings(loaded, ctx, globals.color);
      await runPs(loaded.project.name, ps.services, ps.opts, ctx, globals.color);
    },
    ps.opts.json === true,
    ctx,
  );
}

/** Runs a verb to an exit code, rendering a failure as runCli does (`json`: the verb's --json was given). */
async function settle(verb: () => Promise<void>, json: boolean, ctx: CliContext): Promise<number> {
  try {
    await verb();
    return ExitCode.ok;
  } catch (err) {
    if (isMiss(err)) throw err;
    const { text, exitCode } = renderError(err, { json, color: shouldUseColor(ctx.stderr, { env: ctx.env, color: true }) });
    ctx.stderr.write(text);
    return exitCode;
  }
}
