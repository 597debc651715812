// `cmesh exec [-T] [-d] [-u USER] [-w DIR] [-e K=V]... [--index N] [--privileged] svc cmd…`: a command in a running
// replica, like `docker compose exec`: a TTY when both ends are terminals, stdin forwarded, its exit code is cmesh's.

import { type Command, Option } from 'commander';
import type { ExecRequest } from '../../daemon/api/control.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { collect, parseEnvFlags, parseIndex, runSession, wantsTty, withRequest } from '../interactive-options.ts';
import { requireProjectName } from '../project-ref.ts';

interface ExecOptions {
  tty: boolean;
  TTY?: boolean;
  detach?: boolean;
  user?: string;
  workdir?: string;
  env?: string[];
  index: number;
  privileged?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('exec')
    .description('run a command in a running replica; its exit code is cmesh’s')
    .argument('<service>', 'the service')
    .argument('<command...>', 'the command and its arguments (everything after the service)')
    .option('-T, --no-tty', 'no pseudo-terminal (default: one when stdin and stdout are terminals)')
    // Compose spells the long form --no-TTY.
    .addOption(new Option('--no-TTY').hideHelp())
    .option('-d, --detach', 'run the command in the background')
    .option('-u, --user <user>', 'run as this user (name or uid[:gid])')
    .option('-w, --workdir <dir>', 'working directory for the command')
    .option('-e, --env <KEY=VAL>', 'set an environment variable; repeatable', collect)
    .option('--index <n>', 'which replica', parseIndex, 1)
    .option('--privileged', 'give the process extended privileges')
    .action(async (service: string, command: string[], opts: ExecOptions, cmd: Command) => {
      const name = await requireProjectName(cmd, ctx);
      const detach = opts.detach === true;
      const tty = !detach && wantsTty(ctx, !opts.tty || opts.TTY === false);
      const request: ExecRequest = {
        service,
        index: opts.index,
        command,
        tty,
        stdin: !detach,
        detach,
        env: parseEnvFlags(opts.env ?? [], ctx.env),
        privileged: opts.privileged === true,
        ...(opts.user === undefined ? {} : { user: opts.user }),
        ...(opts.workdir === undefined ? {} : { workingDir: opts.workdir }),
      };
      const client = createDaemonClient(ctx);
      await runSession(client, ctx, withRequest(`/v1/projects/${encodeURIComponent(name)}/exec`, request), { tty, stdin: !detach });
    });
}
