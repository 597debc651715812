// What every verb receives from runCli: the outside world (streams, env, cwd) and test seams. Its own module so the
// verbs in cli/commands/ and program.ts, which registers them, don't import each other.

import type { Command } from 'commander';
import type { LoadedProject, ProjectSpec } from '../daemon/api/project.ts';
import type { ProjectSelection } from './global-options.ts';
import type { InStream } from './io-session.ts';
import type { Env, OutStream } from './output.ts';

/** Everything a command may touch from the outside world, injectable for tests. */
export interface CliContext {
  stdout: OutStream;
  stderr: OutStream;
  /** What `exec` and `run` forward to the process; process.stdin when absent. */
  stdin?: InStream;
  env: Env;
  cwd: string;
  /** Test seams for commands' collaborators; each command documents its key. Production leaves this empty. */
  overrides?: CommandOverrides;
}

export interface CommandOverrides {
  config?: ConfigDeps;
}

/** The loader functions `cmesh config` needs; tests inject a fake through `ctx.overrides.config`. */
export interface ConfigDeps {
  loadProject(options: ProjectSelection): Promise<LoadedProject>;
  /** Canonical compose YAML for a normalized project. */
  projectToComposeYaml(project: ProjectSpec): string;
}

/** The real process's streams, env and cwd. */
export function defaultContext(): CliContext {
  // No stdin: reading process.stdin builds its stream (~2 ms every start); verbs that need it take stdinOf(ctx).
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

export interface CommandModule {
  register(program: Command, ctx: CliContext): void;
}
