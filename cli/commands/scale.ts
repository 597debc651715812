// `cmesh scale svc=N...`: change replica counts; the daemon remembers them until the next `up --scale`.

import type { Command } from 'commander';
import type { ReplicaStatus, ScaleRequest } from '../../daemon/api/control.ts';
import { CmeshError } from '../../daemon/api/errors.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { requireProjectName } from '../project-ref.ts';

/** `web=3` → ['web', 3]; shared with `up --scale`. */
export function parseScale(spec: string): [string, number] {
  const m = /^([A-Za-z0-9][A-Za-z0-9_.-]*)=(\d{1,4})$/.exec(spec);
  if (!m) {
    throw new CmeshError('CMESH_E_USAGE', `invalid scale "${spec}"`, { hint: 'use service=replicas, e.g. web=3' });
  }
  return [m[1]!, Number(m[2])];
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('scale')
    .description('set the number of replicas of services')
    .argument('<service=replicas...>', 'e.g. web=3 worker=0')
    .option('--wait', 'wait until the new replicas are running and healthy')
    .option('--timeout <seconds>', 'how long --wait waits', '120')
    .action(async (specs: string[], opts: { wait?: boolean; timeout: string }, command: Command) => {
      const name = await requireProjectName(command, ctx);
      const body: ScaleRequest = { services: Object.fromEntries(specs.map(parseScale)) };
      if (opts.wait) {
        body.wait = true;
        body.timeoutMs = Number(opts.timeout) * 1000;
      }
      const result = await createDaemonClient(ctx).request<{ replicas: ReplicaStatus[] }>(
        'POST',
        `/v1/projects/${encodeURIComponent(name)}/scale`,
        body,
      );
      for (const [svc, n] of Object.entries(body.services)) {
        const running = result.replicas.filter((r) => r.service === svc && r.state === 'running').length;
        ctx.stderr.write(`Service ${svc}  scaled to ${n} (${running} running)\n`);
      }
    });
}
