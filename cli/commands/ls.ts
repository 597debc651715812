// `cmesh ls`: every project the daemon knows or that still has containers.

import type { Command } from 'commander';
import type { ProjectSummary } from '../../daemon/api/control.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { printJson, printTable } from '../output.ts';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('ls')
    .description('list projects')
    .option('--json', 'print a JSON array of projects')
    .action(async (opts: { json?: boolean }) => {
      const rows = await createDaemonClient(ctx).request<ProjectSummary[]>('GET', '/v1/projects');
      if (opts.json) return printJson(rows, ctx.stdout);
      printTable(
        rows,
        [
          { header: 'NAME', key: 'name' },
          { header: 'STATUS', key: 'status' },
          { header: 'SERVICES', key: 'services', align: 'right' },
          { header: 'RUNNING', value: (r) => `${r.running}/${r.total}`, align: 'right' },
          { header: 'CONFIG FILES', value: (r) => r.files.join(',') },
        ],
        ctx.stdout,
      );
    });
}
