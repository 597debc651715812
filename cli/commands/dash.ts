// `cmesh dash`: the live terminal dashboard (cli/tui): services, replicas, logs and events, with actions on keys.

import type { Command } from 'commander';
import { CmeshError, isCmeshError } from '../../daemon/api/errors.ts';
import type { ProjectSpec } from '../../daemon/api/project.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient, DaemonClient } from '../daemon-client.ts';
import { readGlobalOptions } from '../global-options.ts';
import { shouldUseColor } from '../output.ts';
import { loadComposeProject } from '../project-ref.ts';

/** The project's name and, when a compose file loads, its spec (rebuild needs it); `-p` alone is enough to watch. */
async function target(command: Command, ctx: CliContext): Promise<{ name: string; spec?: ProjectSpec }> {
  try {
    const { project } = await loadComposeProject(command, ctx);
    return { name: project.name, spec: project };
  } catch (err) {
    const name = readGlobalOptions(command).projectName;
    if (!isCmeshError(err) || !err.code.startsWith('CMESH_E_CONFIG') || name === undefined) throw err;
    return { name };
  }
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('dash')
    .description('live dashboard of the project: services, replicas, logs, events; scale/restart/kill on keys')
    .option('--poll <ms>', 'snapshot interval in ms (≥ 250)', '1000')
    .action(async (opts: { poll: string }, command: Command) => {
      const stdin = process.stdin as NodeJS.ReadStream;
      const out = ctx.stdout as { isTTY?: boolean };
      if (!stdin.isTTY || out.isTTY !== true) {
        throw new CmeshError('CMESH_E_USAGE', '`cmesh dash` needs an interactive terminal (stdin and stdout must be a TTY)', {
          hint: 'for scripts and pipes use `cmesh ps`, `cmesh services` or `cmesh events` (all take --json)',
        });
      }
      const pollMs = Math.max(250, Number(opts.poll) || 1000);
      const { name, spec } = await target(command, ctx);
      // Starts the daemon if needed (once); the dashboard's own client never does, so a stopped daemon shows
      // "reconnecting" instead of being resurrected behind the user's back.
      await createDaemonClient(ctx).start();
      const client = new DaemonClient({ home: createDaemonClient(ctx).home, env: ctx.env, stderr: ctx.stderr, autoStart: false });
      const { runDashboard } = await import('../tui/run.tsx');
      await runDashboard({
        client,
        project: name,
        ...(spec ? { spec } : {}),
        color: shouldUseColor(ctx.stdout, { env: ctx.env, color: readGlobalOptions(command).color }),
        pollMs,
      });
    });
}
