// `cmesh cp [--index N] svc:path local` and `cmesh cp local svc:path`: files between a replica and the host through
// the engine's archive API (`docker compose cp`). Tars are made and read here, so the daemon only passes bytes.

import type { Command } from 'commander';
import type { ArchiveRequest } from '../../daemon/api/control.ts';
import { CmeshError } from '../../daemon/api/errors.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { parseIndex, withRequest } from '../interactive-options.ts';
import { requireProjectName } from '../project-ref.ts';

/** `svc:/path` names a service's file; a local path with a colon needs a `./` in front, as with docker cp. */
export function parseCpOperand(text: string): { service: string; path: string } | { local: string } {
  const m = /^([a-zA-Z0-9][a-zA-Z0-9_.-]*):(.*)$/.exec(text);
  if (!m) return { local: text };
  return { service: m[1]!, path: m[2]! };
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('cp')
    .description('copy files between a replica and the host (svc:path local, or local svc:path)')
    .argument('<source>', 'svc:path or a local path')
    .argument('<dest>', 'a local path or svc:path (an existing directory receives the copy inside)')
    .option('--index <n>', 'which replica', parseIndex, 1)
    .action(async (source: string, dest: string, opts: { index: number }, command: Command) => {
      const from = parseCpOperand(source);
      const to = parseCpOperand(dest);
      if ('local' in from === 'local' in to) {
        throw new CmeshError('CMESH_E_USAGE', 'cp copies between a service and the host: exactly one side is svc:path', {
          hint: 'e.g. `cmesh cp web:/etc/hostname ./hostname` or `cmesh cp ./conf.ini web:/etc/app/`',
        });
      }
      const remote = 'service' in from ? from : (to as { service: string; path: string });
      if (!remote.path.startsWith('/')) {
        throw new CmeshError('CMESH_E_USAGE', `cp: ${remote.service}:${remote.path} is not an absolute path in the container`, {
          hint: `write ${remote.service}:/${remote.path}`,
        });
      }
      const name = await requireProjectName(command, ctx);
      const client = createDaemonClient(ctx);
      const archive = (request: ArchiveRequest) => withRequest(`/v1/projects/${encodeURIComponent(name)}/archive`, request);
      if ('service' in from) {
        const tar = await client.download(archive({ service: from.service, index: opts.index, path: from.path }));
        const { extractInto } = await import('../cp-tar.ts');
        const written = await extractInto(tar, (to as { local: string }).local, ctx.cwd);
        ctx.stderr.write(`Copied ${from.service}:${from.path} to ${written}\n`);
        return;
      }
      const local = from.local;
      // tar-stream loads only for a copy, not on every CLI start.
      const { packPath } = await import('../cp-tar.ts');
      // The daemon applies docker cp's rule: into `path` when it is a directory there, else as `path` itself.
      await client.request('PUT', archive({ service: remote.service, index: opts.index, path: remote.path }), await packPath(local, ctx.cwd));
      ctx.stderr.write(`Copied ${local} to ${remote.service}:${remote.path}\n`);
    });
}
