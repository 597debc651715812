// `cmesh version`: the CLI version, plus the runtime it runs on, for bug reports.

import type { Command } from 'commander';
import type { CliContext } from '../cli-context.ts';
import { printJson } from '../output.ts';
import { readVersion } from '../version.ts';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('version')
    .description('show the cmesh version and runtime')
    .option('--json', 'print as JSON')
    .option('--short', 'print only the version number')
    .action((opts: { json?: boolean; short?: boolean }) => {
      const version = readVersion();
      if (opts.short) {
        ctx.stdout.write(`${version}\n`);
      } else if (opts.json) {
        printJson({ version, node: process.versions.node, platform: process.platform, arch: process.arch }, ctx.stdout);
      } else {
        ctx.stdout.write(`cmesh version ${version} (node ${process.versions.node}, ${process.platform}/${process.arch})\n`);
      }
    });
}
