// `cmesh images [svc...]`: the image each of the project's containers uses (`docker compose images`), `--json`, `-q`.

import type { Command } from 'commander';
import type { ContainerImage, ServiceSelection } from '../../daemon/api/control.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { printJson, printLines, printTable } from '../output.ts';
import { requireProjectName } from '../project-ref.ts';

/** 12 hex digits without the algorithm, like `docker images`. */
export const shortId = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

/** Decimal units with three significant digits, as Docker prints sizes (4.26MB). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${Number(value.toPrecision(3))}${units[unit]}`;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('images')
    .description('list the images the project’s containers use')
    .argument('[services...]', 'only these services (default: all)')
    .option('-q, --quiet', 'only print image ids, once each')
    .option('--json', 'print a JSON array: container, service, repository, tag, id, size')
    .action(async (services: string[], opts: { quiet?: boolean; json?: boolean }, command: Command) => {
      const name = await requireProjectName(command, ctx);
      const body: ServiceSelection = { services };
      const rows = await createDaemonClient(ctx).request<ContainerImage[]>('POST', `/v1/projects/${encodeURIComponent(name)}/images`, body);
      if (opts.json) return printJson(rows, ctx.stdout);
      if (opts.quiet) return printLines([...new Set(rows.map((r) => shortId(r.id)))], ctx.stdout);
      printTable(
        rows,
        [
          { header: 'CONTAINER', key: 'container' },
          { header: 'REPOSITORY', key: 'repository' },
          { header: 'TAG', key: 'tag' },
          { header: 'IMAGE ID', value: (r) => shortId(r.id) },
          { header: 'SIZE', value: (r) => (r.size === undefined ? '-' : humanSize(r.size)), align: 'right' },
        ],
        ctx.stdout,
      );
    });
}
