// `cmesh ca` (how to trust the local CA), `cmesh ca path` (the CA certificate, created on first use) and
// `cmesh ca install [--root DIR]` (into the system store). The daemon owns the CA; these ask it where it is.

import type { Command } from 'commander';
import type { CaInfo } from '../../daemon/api/tls.ts';
import { installCa, trustInstructions } from '../ca-trust.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { printJson } from '../output.ts';

function caInfo(ctx: CliContext): Promise<CaInfo> {
  return createDaemonClient(ctx).request<CaInfo>('POST', '/v1/tls/ca');
}

export function register(program: Command, ctx: CliContext): void {
  const ca = program
    .command('ca')
    .description("the local certificate authority behind x-cmesh.tls: how to trust it on this machine")
    .option('--json', 'print the CA as JSON (path, fingerprint, expiry)')
    .action(async (opts: { json?: boolean }) => {
      const info = await caInfo(ctx);
      if (opts.json) return printJson(info, ctx.stdout);
      ctx.stdout.write(`${trustInstructions(info.path, info.fingerprint)}\n`);
    });
  ca.command('path')
    .description("print the CA certificate's path (creating the CA first if there is none)")
    .action(async () => {
      ctx.stdout.write(`${(await caInfo(ctx)).path}\n`);
    });
  ca.command('install')
    .description('add the CA to the system trust store (Debian/Ubuntu, Fedora/RHEL; needs root)')
    .option('--root <dir>', 'install under this directory instead of / (sandboxes, images being built)', '/')
    .action(async (opts: { root: string }) => {
      const info = await caInfo(ctx);
      for (const line of installCa(info.path, opts.root)) ctx.stdout.write(`${line}\n`);
    });
}
