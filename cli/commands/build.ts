// `cmesh build [svc...] [--no-cache]`: builds images through the daemon with live progress; nothing is (re)started.

import type { Command } from 'commander';
import type { BuildRequest, BuildResult } from '../../daemon/api/control.ts';
import { BuildProgressWriter } from '../../builder/progress.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { loadComposeProject } from '../project-ref.ts';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('build')
    .description('build the images of services with a build section (progress on a TTY, plain lines otherwise)')
    .argument('[services...]', 'only these services')
    .option('--no-cache', 'do not use the engine layer cache or the content-hash cache')
    .option('--json', 'print the built images as JSON')
    .action(async (services: string[], opts: { cache?: boolean; json?: boolean }, command: Command) => {
      const { project } = await loadComposeProject(command, ctx);
      const client = createDaemonClient(ctx);
      const names = Object.values(project.services)
        .filter((s) => s.build && (services.length === 0 || services.includes(s.name)))
        .map((s) => s.name);
      const out = ctx.stderr as { write(s: string): unknown; isTTY?: boolean; columns?: number };
      const writer = new BuildProgressWriter(out, { env: ctx.env, services: names });
      const body: BuildRequest = { project, services, noCache: opts.cache === false };
      let result: Record<string, BuildResult>;
      try {
        result = (await client.operation(`/v1/projects/${encodeURIComponent(project.name)}/build`, body, (frame) => {
          if (frame.kind === 'event') writer.handle(frame.event);
        })) as Record<string, BuildResult>;
      } finally {
        writer.close();
      }
      if (opts.json) {
        ctx.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      for (const [service, b] of Object.entries(result).sort(([a], [b]) => a.localeCompare(b))) {
        ctx.stdout.write(`${service.padEnd(16)} ${b.image}  ${b.cached ? 'up to date' : `built in ${(b.durationMs / 1000).toFixed(1)}s`}\n`);
      }
    });
}
