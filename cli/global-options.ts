// The options every verb shares (which compose files, project name, env files, profiles, colour), as Compose has them.

import type { Command } from 'commander';
import type { LoadOptions } from '../daemon/config/load.ts';

export interface GlobalOptions {
  files: string[];
  projectName?: string;
  projectDirectory?: string;
  envFiles: string[];
  profiles: string[];
  /** False after `--no-color`. */
  color: boolean;
}

/**
 * Which project to act on: the loader's own options (daemon/config/load.ts), imported as a type only, so verbs that
 * talk to the daemon can send it over the control API without loading the loader.
 */
export type ProjectSelection = LoadOptions;

/**
 * The global options that take a value, every spelling: argv rewrites before commander (follow-flag.ts,
 * verb-operands.ts) must skip their values. global-options.test.ts keeps it equal to what addGlobalOptions declares.
 */
export const GLOBAL_OPTIONS_WITH_VALUE: ReadonlySet<string> = new Set(['-f', '--file', '-p', '--project-name', '--project-directory', '--env-file', '--profile']);

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function addGlobalOptions(program: Command): Command {
  return program
    .option('-f, --file <path>', 'compose file, repeatable (default: compose.yaml)', collect)
    .option('-p, --project-name <name>', 'project name (default: the directory name)')
    .option('--project-directory <dir>', 'project directory (default: first file’s folder)')
    .option('--env-file <path>', 'env file, repeatable (default: .env)', collect)
    .option('--profile <name>', 'enable a profile; repeatable', collect)
    .option('--no-color', 'no ANSI colours (NO_COLOR is honoured too)');
}

/** Reads the global options from any command, whichever position they were given in. */
export function readGlobalOptions(command: Command): GlobalOptions {
  const o = command.optsWithGlobals<{
    file?: string[];
    projectName?: string;
    projectDirectory?: string;
    envFile?: string[];
    profile?: string[];
    color?: boolean;
  }>();
  return {
    files: o.file ?? [],
    ...(o.projectName === undefined ? {} : { projectName: o.projectName }),
    ...(o.projectDirectory === undefined ? {} : { projectDirectory: o.projectDirectory }),
    envFiles: o.envFile ?? [],
    profiles: o.profile ?? [],
    color: o.color !== false,
  };
}

/** Global options → loader input. Empty lists are left out so the loader applies Compose's defaults. */
export function projectSelection(
  globals: GlobalOptions,
  cwd: string,
  env: Record<string, string | undefined>,
): ProjectSelection {
  return {
    cwd,
    env,
    ...(globals.files.length > 0 ? { files: globals.files } : {}),
    ...(globals.projectName === undefined ? {} : { projectName: globals.projectName }),
    ...(globals.projectDirectory === undefined ? {} : { projectDirectory: globals.projectDirectory }),
    ...(globals.envFiles.length > 0 ? { envFiles: globals.envFiles } : {}),
    ...(globals.profiles.length > 0 ? { profiles: globals.profiles } : {}),
  };
}
