// `cmesh events`: the daemon's live event feed for the project (or every project without a compose file or -p).

import type { Command } from 'commander';
import type { DaemonEvent } from '../../daemon/api/events.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { describeEvent } from '../event-text.ts';
import { readGlobalOptions } from '../global-options.ts';
import { colorsFor } from '../output.ts';
import { resolveProjectName } from '../project-ref.ts';
import { parseSince } from '../since.ts';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('events')
    .description('stream daemon events (container lifecycle, health, builds, reconciles) until Ctrl-C')
    .option('--json', 'one JSON DaemonEvent per line')
    .option('--all-projects', 'events of every project, not just this one')
    .option('--since <duration|timestamp>', 'first replay kept events since then (10m, 1h, 2024-05-01T12:00:00Z)')
    .action(async (opts: { json?: boolean; allProjects?: boolean; since?: string }, command: Command) => {
      const since = opts.since === undefined ? undefined : parseSince(opts.since);
      const name = opts.allProjects ? undefined : await resolveProjectName(command, ctx, { optional: true });
      const c = colorsFor(ctx.stdout, { env: ctx.env, color: readGlobalOptions(command).color });
      const ac = new AbortController();
      const onSigint = (): void => ac.abort();
      process.once('SIGINT', onSigint);
      const q = new URLSearchParams();
      if (name) q.set('project', name);
      if (since !== undefined) q.set('since', String(since));
      const path = q.size > 0 ? `/v1/events?${q}` : '/v1/events';
      try {
        for await (const event of createDaemonClient(ctx).stream<DaemonEvent>('GET', path, undefined, ac.signal)) {
          if (opts.json) {
            ctx.stdout.write(JSON.stringify(event) + '\n');
            continue;
          }
          const text = describeEvent(event, c, true);
          if (text) ctx.stdout.write(`${c.dim(new Date(event.time).toISOString())} ${event.project ? `${event.project} ` : ''}${text}\n`);
        }
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}
