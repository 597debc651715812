// `cmesh port [--index N] [--protocol tcp|udp] svc PRIVATE_PORT`: the address to connect to (`docker compose port`):
// the mesh proxy's for a published port, else the replica's own 127.0.0.1:<engine port>.

import { type Command, InvalidArgumentError, Option } from 'commander';
import type { PortRequest, PortResult } from '../../daemon/api/control.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { requireProjectName } from '../project-ref.ts';

function positiveInt(max: number): (raw: string) => number {
  return (raw) => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < 1 || n > max) throw new InvalidArgumentError(`expected a number from 1 to ${max}`);
    return n;
  };
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('port')
    .description('print the public address of a service port (the mesh proxy’s when published)')
    .argument('<service>', 'the service')
    .argument('<private_port>', 'the container port', positiveInt(65535))
    .addOption(new Option('--protocol <protocol>', 'tcp or udp').choices(['tcp', 'udp']).default('tcp'))
    .option('--index <n>', 'the replica, when the port is not published through the mesh', positiveInt(100_000), 1)
    .action(async (service: string, privatePort: number, opts: { protocol: 'tcp' | 'udp'; index: number }, command: Command) => {
      const name = await requireProjectName(command, ctx);
      const body: PortRequest = { service, privatePort, protocol: opts.protocol, index: opts.index };
      const result = await createDaemonClient(ctx).request<PortResult>('POST', `/v1/projects/${encodeURIComponent(name)}/port`, body);
      ctx.stdout.write(`${result.host}:${result.port}\n`);
    });
}
