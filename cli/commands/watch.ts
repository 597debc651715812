// `cmesh watch`: follow source edits of a project that is already up — rebuild + start-first rollout, or sync.

import type { Command } from 'commander';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { startDevWatch } from '../dev-watch.ts';
import { readGlobalOptions } from '../global-options.ts';
import { colorsFor } from '../output.ts';
import { loadComposeProject } from '../project-ref.ts';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('watch')
    .description('rebuild and roll out (zero downtime) or sync files as sources change; Ctrl-C stops watching')
    .argument('[services...]', 'the services `up` was run with (default all)')
    .action(async (services: string[], _opts: unknown, command: Command) => {
      const globals = readGlobalOptions(command);
      const { project } = await loadComposeProject(command, ctx);
      const client = createDaemonClient(ctx);
      const c = colorsFor(ctx.stderr, { env: ctx.env, color: globals.color });
      const ac = new AbortController();
      const onSigint = (): void => ac.abort();
      process.on('SIGINT', onSigint);
      try {
        const watcher = await startDevWatch({ client, project, services, out: ctx.stderr, c, signal: ac.signal });
        await watcher.closed;
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}
