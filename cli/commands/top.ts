// `cmesh top [svc...]`: the processes of each running replica (`docker compose top`): its name, then a ps table.

import type { Command } from 'commander';
import type { ReplicaProcesses, ServiceSelection } from '../../daemon/api/control.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { formatTable, printJson } from '../output.ts';
import { requireProjectName } from '../project-ref.ts';

export function formatTop(replicas: ReplicaProcesses[]): string {
  return replicas
    .map((r) => {
      const columns = r.titles.map((header, i) => ({ header, value: (row: string[]) => row[i] ?? '' }));
      return `${r.name}\n${formatTable(r.processes, columns)}`;
    })
    .join('\n');
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('top')
    .description('display the running processes of each replica')
    .argument('[services...]', 'only these services (default: all)')
    .option('--json', 'print a JSON array: one entry per replica with titles and processes')
    .action(async (services: string[], opts: { json?: boolean }, command: Command) => {
      const name = await requireProjectName(command, ctx);
      const body: ServiceSelection = { services };
      const rows = await createDaemonClient(ctx).request<ReplicaProcesses[]>('POST', `/v1/projects/${encodeURIComponent(name)}/top`, body);
      if (opts.json) return printJson(rows, ctx.stdout);
      ctx.stdout.write(formatTop(rows));
    });
}
