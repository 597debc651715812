// Shared body of `restart`, `stop` and `start`: same request shape, different route.

import type { Command } from 'commander';
import type { ReplicaStatus, ServicesRequest } from '../../daemon/api/control.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { requireProjectName } from '../project-ref.ts';

export type LifecycleVerb = 'restart' | 'stop' | 'start';

const done: Record<LifecycleVerb, string> = { restart: 'Restarted', stop: 'Stopped', start: 'Started' };

export function registerLifecycle(program: Command, ctx: CliContext, verb: LifecycleVerb, description: string): void {
  const cmd = program.command(verb).description(description).argument('[services...]', 'only these services (default: all)');
  if (verb !== 'start') cmd.option('-t, --timeout <seconds>', 'seconds to wait for a graceful stop before killing');
  cmd.action(async (services: string[], opts: { timeout?: string }, command: Command) => {
    const name = await requireProjectName(command, ctx);
    const body: ServicesRequest = { services };
    if (opts.timeout !== undefined) body.timeoutMs = Number(opts.timeout) * 1000;
    const result = await createDaemonClient(ctx).request<{ replicas: ReplicaStatus[] }>(
      'POST',
      `/v1/projects/${encodeURIComponent(name)}/${verb}`,
      body,
    );
    const touched = result.replicas.filter((r) => services.length === 0 || services.includes(r.service));
    for (const r of touched) ctx.stderr.write(`Container ${r.name}  ${done[verb]}\n`);
  });
}
