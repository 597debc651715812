// `cmesh ps`: the project's replicas, one row per container (`--json` for scripts: an array of ReplicaStatus).

import type { Command } from 'commander';
import type { ReplicaStatus } from '../../daemon/api/control.ts';
import type { Endpoint } from '../../daemon/api/engine.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { readGlobalOptions } from '../global-options.ts';
import { colorsFor, printJson, printTable } from '../output.ts';
import { collapsePortRanges, formatAddressRange, formatPortRange } from '../port-ranges.ts';
import { requireProjectName } from '../project-ref.ts';

/**
 * A replica's engine endpoints as `docker compose ps` prints ports: consecutive ones as one range. One reached at the
 * container's own address has no mapping to show: its address and ports, as a caller on its network dials them.
 */
export function formatEndpoints(endpoints: Endpoint[]): string {
  const published = collapsePortRanges(endpoints.filter((e) => e.direct !== true)).map((r) => `${formatPortRange(r)}/${r.protocol}`);
  const direct = collapsePortRanges(endpoints.filter((e) => e.direct === true)).map((r) => `${formatAddressRange(r)}/${r.protocol}`);
  return [...published, ...direct].join(', ');
}

export function psQuery(options: { all?: boolean; services?: string[] }): string {
  const q = new URLSearchParams();
  if (options.all) q.set('all', '1');
  for (const s of options.services ?? []) q.append('service', s);
  const text = q.toString();
  return text ? `?${text}` : '';
}

export interface PsOptions {
  all?: boolean;
  json?: boolean;
}

/** Asks the daemon for `name`'s replicas and prints them; `color` is false after the global `--no-color`. */
export async function runPs(name: string, services: string[], opts: PsOptions, ctx: CliContext, color: boolean): Promise<void> {
  const client = createDaemonClient(ctx);
  const rows = await client.request<ReplicaStatus[]>('GET', `/v1/projects/${encodeURIComponent(name)}/ps${psQuery({ all: opts.all === true, services })}`);
  if (opts.json) return printJson(rows, ctx.stdout);
  const c = colorsFor(ctx.stdout, { env: ctx.env, color });
  const stateColor = (s: string): string => (s === 'running' ? c.green(s) : s === 'exited' || s === 'dead' ? c.red(s) : c.yellow(s));
  const healthColor = (h: string): string => (h === 'healthy' ? c.green(h) : h === 'unhealthy' ? c.red(h) : h === 'none' ? c.dim('-') : c.yellow(h));
  printTable(
    rows,
    [
      { header: 'NAME', key: 'name' },
      { header: 'SERVICE', key: 'service' },
      { header: 'STATE', value: (r) => stateColor(r.exitCode !== undefined && r.state === 'exited' ? `exited (${r.exitCode})` : r.state) },
      // healthy by cmesh's start probe while Docker's first healthcheck is still due: say both.
      { header: 'HEALTH', value: (r) => healthColor(r.health) + (r.engineHealth ? c.dim(` (docker: ${r.engineHealth})`) : '') },
      { header: 'ENDPOINTS', value: (r) => formatEndpoints(r.endpoints) },
      { header: 'RESTARTS', key: 'restarts', align: 'right' },
    ],
    ctx.stdout,
  );
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('ps')
    .description('list the project’s replica containers')
    .argument('[services...]', 'only these services')
    .option('-a, --all', 'include stopped containers')
    .option('--json', 'print a JSON array of replicas')
    .action(async (services: string[], opts: PsOptions, command: Command) => {
      const name = await requireProjectName(command, ctx);
      await runPs(name, services, opts, ctx, readGlobalOptions(command).color);
    });
}
