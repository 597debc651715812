// `cmesh rm [-f] [-s] [-v] [svc…]`: removes the stopped containers of the services (`docker compose rm`). Compose asks
// first; cmesh asks only on a terminal, and without one (CI, scripts) wants -f rather than waiting for an answer.

import type { Command } from 'commander';
import type { ContainersResult, RmRequest } from '../../daemon/api/control.ts';
import { CmeshError } from '../../daemon/api/errors.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { stdinOf } from '../interactive-options.ts';
import { requireProjectName } from '../project-ref.ts';

interface RmOptions {
  force?: boolean;
  stop?: boolean;
  volumes?: boolean;
}

async function confirm(ctx: CliContext, names: string[]): Promise<boolean> {
  const stdin = stdinOf(ctx);
  if (stdin.isTTY !== true) {
    throw new CmeshError('CMESH_E_USAGE', `rm would remove ${names.length} container(s) and there is no terminal to confirm it`, {
      hint: `add -f (--force) to remove without asking: ${names.join(', ')}`,
      details: { containers: names },
    });
  }
  const { createInterface } = await import('node:readline/promises'); // only when asking: not on every start
  const rl = createInterface({ input: stdin, output: ctx.stderr as NodeJS.WritableStream });
  try {
    const answer = await rl.question(`Going to remove ${names.join(', ')}\n? Are you sure? [yN] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('rm')
    .description('remove stopped service containers (replicas and one-offs)')
    .argument('[services...]', 'only these services (default: all)')
    .option('-f, --force', 'do not ask for confirmation (required without a terminal)')
    .option('-s, --stop', 'stop the services first (they stay stopped until `start` or `up`)')
    .option('-v, --volumes', 'remove the containers’ anonymous volumes too')
    .action(async (services: string[], opts: RmOptions, command: Command) => {
      const name = await requireProjectName(command, ctx);
      const client = createDaemonClient(ctx);
      const path = `/v1/projects/${encodeURIComponent(name)}/rm`;
      const base: RmRequest = { services, stop: opts.stop === true, volumes: opts.volumes === true, dryRun: true };
      const planned = await client.request<ContainersResult>('POST', path, base);
      if (planned.containers.length === 0) {
        ctx.stderr.write('No stopped containers\n');
        return;
      }
      if (!opts.force && !(await confirm(ctx, planned.containers))) return;
      const done = await client.request<ContainersResult>('POST', path, { ...base, dryRun: false });
      for (const container of done.containers) ctx.stderr.write(`Container ${container}  Removed\n`);
    });
}
