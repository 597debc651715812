// `cmesh down`: remove the project's containers and networks (and volumes with -v); the daemon forgets the project.

import type { Command } from 'commander';
import type { DownRequest } from '../../daemon/api/control.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { frameWriter } from '../event-text.ts';
import { readGlobalOptions } from '../global-options.ts';
import { colorsFor } from '../output.ts';
import { requireProjectName } from '../project-ref.ts';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('down')
    .description('stop and remove the project’s containers and networks')
    .option('-v, --volumes', 'also remove the project’s named volumes')
    .option('--remove-orphans', 'also remove containers of services no longer in the compose file')
    .action(async (opts: { volumes?: boolean; removeOrphans?: boolean }, command: Command) => {
      const name = await requireProjectName(command, ctx);
      const c = colorsFor(ctx.stderr, { env: ctx.env, color: readGlobalOptions(command).color });
      const body: DownRequest = { volumes: opts.volumes === true, removeOrphans: opts.removeOrphans === true };
      await createDaemonClient(ctx).operation(`/v1/projects/${encodeURIComponent(name)}/down`, body, frameWriter(ctx.stderr, c));
      ctx.stderr.write(`Project ${name}  ${c.green('Removed')}\n`);
    });
}
