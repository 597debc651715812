// `cmesh down`: remove the project's containers and networks (and volumes with -v); the daemon forgets the project.
// Idempotent: nothing to remove is a warning and exit 0, as with `docker compose down`.

import type { Command } from 'commander';
import type { DownNothingResult, DownRequest } from '../../daemon/api/control.ts';
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
      const result = await createDaemonClient(ctx).operation(`/v1/projects/${encodeURIComponent(name)}/down`, body, frameWriter(ctx.stderr, c));
      if ((result as Partial<DownNothingResult> | undefined)?.nothingToRemove === true) {
        // Compose's wording and exit 0: an always-run CI clean-up step must not fail on a project that is already gone.
        ctx.stderr.write(`${c.yellow('warning')}: no resource found to remove for project "${name}"\n`);
        return;
      }
      ctx.stderr.write(`Project ${name}  ${c.green('Removed')}\n`);
    });
}
