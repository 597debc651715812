// Which project a verb acts on: the compose files (like `config`), or just `-p name` when there is no compose file,
// so `cmesh -p shop ps` and `cmesh -p shop down` work from anywhere.

import type { Command } from 'commander';
import { formatPosition, isCmeshError } from '../daemon/api/errors.ts';
import type { LoadedProject } from '../daemon/api/project.ts';
import type { CliContext } from './cli-context.ts';
import { type GlobalOptions, type ProjectSelection, projectSelection, readGlobalOptions } from './global-options.ts';
import { cachedProject, loadAndCache, projectCacheFor } from './project-cache.ts';
import { colorsFor } from './output.ts';

/** Loads the compose project and prints its warnings on stderr (every verb shows them the same way). */
export function loadComposeProject(command: Command, ctx: CliContext): Promise<LoadedProject> {
  return loadProjectWith(readGlobalOptions(command), ctx);
}

/** loadComposeProject from global options already read (cli/fast-path.ts has no commander command). */
export async function loadProjectWith(globals: GlobalOptions, ctx: CliContext): Promise<LoadedProject> {
  const selection = projectSelection(globals, ctx.cwd, ctx.env);
  // Lazy: an unchanged project (project-cache.ts) and verbs that only need a name from -p never pay for the loader.
  const load = async (sel: ProjectSelection, seen?: (path: string) => void): Promise<LoadedProject> => {
    const { loadProject } = await import('../daemon/config/load.ts');
    return loadProject(seen ? { ...sel, seen } : sel);
  };
  const cache = projectCacheFor(ctx.env);
  const loaded = cache ? (cachedProject(cache, selection) ?? (await loadAndCache(cache, selection, load))) : await load(selection);
  printLoadWarnings(loaded, ctx, globals.color);
  return loaded;
}

/** A load's warnings on stderr, the same for every verb (and cli/fast-path.ts); `color` is false after `--no-color`. */
export function printLoadWarnings(loaded: LoadedProject, ctx: CliContext, color: boolean): void {
  const c = colorsFor(ctx.stderr, { env: ctx.env, color });
  for (const w of loaded.warnings) {
    const where = w.position ? `${formatPosition(w.position)} ` : '';
    const path = w.path ? `${w.path}: ` : '';
    ctx.stderr.write(`${c.yellow('warning')}: ${where}${path}${w.message}\n`);
  }
}

/**
 * The project name. With `-p`, a missing or broken compose file is not an error: the daemon knows the project by
 * name. Without `-p`, the compose file decides and its errors are the user's to fix.
 */
export async function resolveProjectName(command: Command, ctx: CliContext, options: { optional?: boolean } = {}): Promise<string | undefined> {
  const globals = readGlobalOptions(command);
  try {
    return (await loadComposeProject(command, ctx)).project.name;
  } catch (err) {
    if (!isCmeshError(err) || !err.code.startsWith('CMESH_E_CONFIG')) throw err;
    if (globals.projectName !== undefined) return globals.projectName;
    if (options.optional && err.code === 'CMESH_E_CONFIG_NOT_FOUND') return undefined;
    throw err;
  }
}

export async function requireProjectName(command: Command, ctx: CliContext): Promise<string> {
  return (await resolveProjectName(command, ctx))!;
}
