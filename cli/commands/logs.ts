// `cmesh logs`: multiplexed logs of every replica, `service-n | ` prefixed; -f follows and picks up new replicas.

import type { Command } from 'commander';
import { CmeshError } from '../../daemon/api/errors.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { printLogs } from '../follow-logs.ts';
import { readGlobalOptions } from '../global-options.ts';
import { shouldUseColor } from '../output.ts';
import { requireProjectName } from '../project-ref.ts';

interface LogsOptions {
  follow?: boolean;
  tail?: string;
  timestamps?: boolean;
}

function parseTail(text: string | undefined): number | undefined {
  if (text === undefined || text === 'all') return undefined;
  if (!/^\d+$/.test(text)) throw new CmeshError('CMESH_E_USAGE', `--tail takes a number or "all", not "${text}"`);
  return Number(text);
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('logs')
    .description('show the logs of the project’s replicas')
    .argument('[services...]', 'only these services')
    .option('-f, --follow', 'keep streaming, including replicas started later')
    .option('--tail <lines>', 'lines from the end of each replica’s log, or "all"', 'all')
    .option('-t, --timestamps', 'prefix each line with its timestamp')
    .action(async (services: string[], opts: LogsOptions, command: Command) => {
      const name = await requireProjectName(command, ctx);
      const tail = parseTail(opts.tail);
      const ac = new AbortController();
      // Ctrl-C ends a follow quietly: leaving is the normal way out of `logs -f`.
      const onSigint = (): void => ac.abort();
      if (opts.follow) process.once('SIGINT', onSigint);
      try {
        await printLogs(createDaemonClient(ctx), ctx.stdout, {
          project: name,
          services,
          follow: opts.follow === true,
          ...(tail === undefined ? {} : { tail }),
          timestamps: opts.timestamps === true,
          color: shouldUseColor(ctx.stdout, { env: ctx.env, color: readGlobalOptions(command).color }),
          signal: ac.signal,
        });
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}
