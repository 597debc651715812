// `cmesh pause [svc...]` / `cmesh unpause [svc...]`: freeze and thaw the project's replicas (`docker compose pause`).
// The daemon leaves a paused replica alone (no heal) and the mesh stops routing to it until it is unpaused.

import type { Command } from 'commander';
import type { ContainersResult, ServiceSelection } from '../../daemon/api/control.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { requireProjectName } from '../project-ref.ts';

function registerPause(program: Command, ctx: CliContext, verb: 'pause' | 'unpause', description: string, done: string): void {
  program
    .command(verb)
    .description(description)
    .argument('[services...]', 'only these services (default: all)')
    .action(async (services: string[], _opts: unknown, command: Command) => {
      const name = await requireProjectName(command, ctx);
      const body: ServiceSelection = { services };
      const result = await createDaemonClient(ctx).request<ContainersResult>('POST', `/v1/projects/${encodeURIComponent(name)}/${verb}`, body);
      for (const container of result.containers) ctx.stderr.write(`Container ${container}  ${done}\n`);
    });
}

export function register(program: Command, ctx: CliContext): void {
  registerPause(program, ctx, 'pause', 'pause the running replicas (the mesh stops routing to them)', 'Paused');
}

export function registerUnpause(program: Command, ctx: CliContext): void {
  registerPause(program, ctx, 'unpause', 'unpause paused replicas', 'Unpaused');
}
