// Builds the commander program and runs it to an exit code; in-process so tests drive it without spawning.
//
// Adding a verb: write cli/commands/<verb>.ts exporting `register(program, ctx)` that calls `program.command(...)`
// (so it inherits exit handling and output routing), then add it to `commands` below. Throw CmeshError for anything
// the user can fix; runCli renders it and picks the exit code.

import { Command, CommanderError } from 'commander';
import { ExitCode } from '../daemon/api/errors.ts';
import type { CliContext, CommandModule } from './cli-context.ts';
import * as buildCommand from './commands/build.ts';
import * as caCommand from './commands/ca.ts';
import * as certCommand from './commands/cert.ts';
import * as configCommand from './commands/config.ts';
import * as cpCommand from './commands/cp.ts';
import * as daemonCommand from './commands/daemon.ts';
import * as dashCommand from './commands/dash.ts';
import * as downCommand from './commands/down.ts';
import * as eventsCommand from './commands/events.ts';
import * as execCommand from './commands/exec.ts';
import * as faultCommand from './commands/fault.ts';
import * as exportCommand from './commands/export.ts';
import * as imagesCommand from './commands/images.ts';
import * as killCommand from './commands/kill.ts';
import * as logsCommand from './commands/logs.ts';
import * as lsCommand from './commands/ls.ts';
import * as pauseCommand from './commands/pause.ts';
import * as portCommand from './commands/port.ts';
import * as psCommand from './commands/ps.ts';
import * as pullCommand from './commands/pull.ts';
import * as restartCommand from './commands/restart.ts';
import * as rmCommand from './commands/rm.ts';
import * as runCommand from './commands/run.ts';
import * as routesCommand from './commands/routes.ts';
import * as scaleCommand from './commands/scale.ts';
import * as servicesCommand from './commands/services.ts';
import * as startCommand from './commands/start.ts';
import * as stopCommand from './commands/stop.ts';
import * as topCommand from './commands/top.ts';
import * as unpauseCommand from './commands/unpause.ts';
import * as upCommand from './commands/up.ts';
import * as versionCommand from './commands/version.ts';
import * as watchCommand from './commands/watch.ts';
import { ChildExit } from './child-exit.ts';
import { followFlagAfterVerb } from './follow-flag.ts';
import { addGlobalOptions, readGlobalOptions } from './global-options.ts';
import { colorsFor, shouldUseColor } from './output.ts';
import { renderError } from './render-error.ts';
import { commandAfterService } from './verb-operands.ts';
import { readVersion } from './version.ts';

export type { CliContext, CommandModule, CommandOverrides } from './cli-context.ts';
export { defaultContext } from './cli-context.ts';

/** Verbs, in help order. One line per verb. */
const commands: CommandModule[] = [
  upCommand,
  downCommand,
  buildCommand,
  pullCommand,
  watchCommand,
  psCommand,
  servicesCommand,
  routesCommand,
  dashCommand,
  logsCommand,
  scaleCommand,
  faultCommand,
  restartCommand,
  stopCommand,
  startCommand,
  pauseCommand,
  unpauseCommand,
  killCommand,
  rmCommand,
  execCommand,
  runCommand,
  cpCommand,
  portCommand,
  topCommand,
  imagesCommand,
  lsCommand,
  eventsCommand,
  configCommand,
  exportCommand,
  caCommand,
  certCommand,
  daemonCommand,
  versionCommand,
];


export function buildProgram(ctx: CliContext): Command {
  const program = new Command('cmesh');
  program
    .description('Compose projects with N replicas behind one port, health-aware\nbalancing and rolling swaps.')
    .version(readVersion(), '-V, --version', 'print the cmesh version')
    .helpOption('-h, --help', 'show help')
    // Settings below are copied to every subcommand created with program.command(): set them before registering.
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (str) => ctx.stdout.write(str),
      writeErr: (str) => ctx.stderr.write(str),
      outputError: (str, write) => write(colorsFor(ctx.stderr, { env: ctx.env }).red(str)),
    });
  addGlobalOptions(program);
  program.addHelpText(
    'after',
    `
Examples:
  cmesh config                       validate compose.yaml, print the result
  cmesh -f a.yaml -f b.yaml config   merge two files, later ones win
  cmesh config --services            list service names
  cmesh export kubernetes -o k8s/    one Kubernetes manifest per object

Exit codes: 0 ok, 1 failure, 2 usage, 3 config, 4 engine unavailable,
5 build failed, 6 unhealthy, 7 not found, 8 conflict, 9 pull failed, 70 bug in cmesh.`,
  );
  for (const command of commands) command.register(program, ctx);
  return program;
}

function commanderExitCode(err: CommanderError): number {
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.ok;
  // `cmesh` with no verb shows help on stderr with a non-zero code: treat it as a usage error.
  if (err.code === 'commander.help') return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  return ExitCode.usage;
}

/**
 * Parses `argv` (user arguments, without node and the script) and runs the chosen verb. Never throws and never
 * calls process.exit: it returns the exit code so tests and main.ts decide what to do with it.
 */
export async function runCli(argv: readonly string[], ctx: CliContext, program = buildProgram(ctx)): Promise<number> {
  let active: Command | undefined;
  program.hook('preAction', (_root, actionCommand) => {
    active = actionCommand;
  });
  try {
    await program.parseAsync(commandAfterService(followFlagAfterVerb(argv)), { from: 'user' });
    return ExitCode.ok;
  } catch (err) {
    // `exec` and `run`: the process's own exit code, nothing to render.
    if (err instanceof ChildExit) return err.exitCode;
    // Commander already printed its own message (with "Did you mean …?") through outputError.
    if (err instanceof CommanderError) return commanderExitCode(err);
    const command = active ?? program;
    const json = command.opts<{ json?: boolean }>().json === true;
    const color = shouldUseColor(ctx.stderr, { env: ctx.env, color: readGlobalOptions(command).color });
    const { text, exitCode } = renderError(err, { json, color });
    ctx.stderr.write(text);
    return exitCode;
  }
}

