// `cmesh kill [-s SIGNAL] [svc...]`: signal every running replica (`docker compose kill`, default SIGKILL).
// SIGKILL and SIGTERM count as a stop (the daemon keeps the services stopped until `start`/`up`); other signals are
// only delivered, and a replica that dies of one is restarted by the supervisor like any other failure.

import type { Command } from 'commander';
import type { KillRequest, KillResult } from '../../daemon/api/control.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { requireProjectName } from '../project-ref.ts';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('kill')
    .description('send a signal to the running replicas (SIGKILL/SIGTERM keep them stopped until start)')
    .argument('[services...]', 'only these services (default: all)')
    .option('-s, --signal <signal>', 'signal to send: a name (SIGHUP, HUP) or a number', 'SIGKILL')
    .action(async (services: string[], opts: { signal: string }, command: Command) => {
      const name = await requireProjectName(command, ctx);
      const body: KillRequest = { services, signal: opts.signal };
      const result = await createDaemonClient(ctx).request<KillResult>('POST', `/v1/projects/${encodeURIComponent(name)}/signal`, body);
      for (const container of result.containers) ctx.stderr.write(`Container ${container}  Killed (${result.signal})\n`);
    });
}
