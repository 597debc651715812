// `cmesh pull [svc…]`: pulls service images through the daemon as `docker compose pull` does; nothing is started.

import type { Command } from 'commander';
import type { PullRequest, PullResult } from '../../daemon/api/control.ts';
import { CmeshError } from '../../daemon/api/errors.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { dockerConfigDir } from '../docker-config.ts';
import type { CliContext } from '../cli-context.ts';
import { loadComposeProject } from '../project-ref.ts';
import { PullProgressWriter } from '../pull-progress.ts';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('pull')
    .description('pull service images (honours pull_policy; progress on a TTY, one line per image otherwise)')
    .argument('[services...]', 'only these services')
    .option('--ignore-pull-failures', 'pull what can be pulled; report the failures and exit 0')
    .option('-q, --quiet', 'print nothing but errors')
    .option('--json', 'print the result as JSON')
    .action(async (services: string[], opts: { ignorePullFailures?: boolean; quiet?: boolean; json?: boolean }, command: Command) => {
      const { project } = await loadComposeProject(command, ctx);
      const client = createDaemonClient(ctx);
      const writer = new PullProgressWriter(ctx.stderr, { env: ctx.env, quiet: opts.quiet === true });
      const body: PullRequest = { project, services, ignoreFailures: opts.ignorePullFailures === true, dockerConfig: dockerConfigDir(ctx.env) };
      let result: PullResult;
      try {
        result = (await client.operation(`/v1/projects/${encodeURIComponent(project.name)}/pull`, body, (frame) => {
          if (frame.kind === 'event') writer.handle(frame.event);
        })) as PullResult;
      } finally {
        writer.close();
      }
      if (opts.json) {
        ctx.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      // Failures ignored by --ignore-pull-failures (or of buildable services) still deserve a line each.
      for (const [service, error] of Object.entries(result.failed)) {
        ctx.stderr.write(`warning: ${service}: ${CmeshError.fromJSON(error).message}\n`);
      }
    });
}
