// `cmesh routes [--json]`: each published HTTP port's route table with per-route counters, and the faults in effect.

import type { Command } from 'commander';
import type { RouteRowView, RoutesView } from '../../daemon/api/policy-control.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { printJson, printTable } from '../output.ts';
import { requireProjectName } from '../project-ref.ts';
import { describeFaults } from './fault.ts';

interface Line {
  port: string;
  route: RouteRowView | undefined;
}

export function routeLines(view: RoutesView): Line[] {
  // Calls by name (host `east-west`) after the published ports: same columns, the gateway's own counters.
  return [...view.ports, ...(view.eastWest?.ports ?? [])].flatMap((p): Line[] => {
    const port = `${p.service} ${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}`;
    return p.routes.length === 0 ? [{ port, route: undefined }] : p.routes.map((route, i) => ({ port: i === 0 ? port : '', route }));
  });
}

const targets = (r: RouteRowView): string => r.redirect ?? r.to.map((t) => `${t.target}=${t.weight} (${t.requests})`).join(', ');

export function register(program: Command, ctx: CliContext): void {
  program
    .command('routes')
    .description('show the route table of each published port, with per-route counters and injected faults')
    .option('--json', 'print the route tables as JSON (RoutesView)')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const name = await requireProjectName(command, ctx);
      const view = await createDaemonClient(ctx).request<RoutesView>('GET', `/v1/projects/${encodeURIComponent(name)}/routes`);
      if (opts.json) return printJson(view, ctx.stdout);
      printTable(
        routeLines(view),
        [
          { header: 'PORT', value: (l) => l.port },
          { header: '#', value: (l) => (l.route === undefined ? '-' : String(l.route.index)) },
          { header: 'MATCH', value: (l) => l.route?.match ?? '(no routes: its own service)' },
          { header: 'TO (REQUESTS)', value: (l) => (l.route === undefined ? '' : targets(l.route)) },
          { header: 'REQUESTS', value: (l) => (l.route === undefined ? '' : String(l.route.requests)) },
          { header: '429', value: (l) => (l.route === undefined ? '' : String(l.route.rateLimited)) },
        ],
        ctx.stdout,
      );
      for (const f of view.faults) ctx.stdout.write(`faults ${f.service}: ${describeFaults(f.faults)} (${f.source})\n`);
      const breakers = [...(view.breakers ?? []).map((b) => ({ b, where: '' })), ...(view.eastWest?.breakers ?? []).map((b) => ({ b, where: ' (east-west)' }))];
      for (const { b, where } of breakers) {
        ctx.stdout.write(
          `breaker ${b.service}${where}: ${b.requests} in flight, ${b.pending} pending, ${b.connections} connections; ` +
            `overflow ${b.overflow.requests} (max_requests) ${b.overflow.pending} (max_pending) ${b.overflow.connections} (max_connections)\n`,
        );
      }
    });
}
