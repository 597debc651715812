// `cmesh run [--rm] [-d] [-e K=V]… [--entrypoint CMD] [--no-deps] [-v SRC:DST[:ro]]… [-p HOST:CTR]… [--name N] [-u U]
// [-w DIR] [-T] svc [cmd…]`: a one-off container with the service's config, like `docker compose run`. The daemon
// starts the dependencies and creates it; attached, its exit code is cmesh's and `--rm` leaves nothing behind.

import { isAbsolute, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import type { AttachRequest, RunRequest, RunResult } from '../../daemon/api/control.ts';
import { CmeshError } from '../../daemon/api/errors.ts';
import { shellSplit } from '../../daemon/config/normalize/shell-split.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { dockerConfigDir } from '../docker-config.ts';
import { collect, parseEnvFlags, runSession, wantsTty, withRequest } from '../interactive-options.ts';
import { loadComposeProject } from '../project-ref.ts';

interface RunOptions {
  rm?: boolean;
  detach?: boolean;
  env?: string[];
  entrypoint?: string;
  deps: boolean;
  volume?: string[];
  publish?: string[];
  name?: string;
  user?: string;
  workdir?: string;
  tty: boolean;
  TTY?: boolean;
}

/** `-v SRC:DST[:ro|rw]`: a source with a slash or dot is a host path (relative to the working directory), else a volume. */
export function parseVolumeFlag(flag: string, cwd: string): RunRequest['volumes'][number] {
  const parts = flag.split(':');
  const mode = parts.length === 3 ? parts[2] : undefined;
  const [source, target] = parts;
  if (parts.length < 2 || parts.length > 3 || !source || !target?.startsWith('/') || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
    throw new CmeshError('CMESH_E_USAGE', `-v ${flag}: not SRC:DST[:ro]`, {
      hint: 'DST is an absolute path in the container; SRC a host path (./data, /srv/x) or a volume name',
    });
  }
  const hostPath = source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
  const expanded = source.startsWith('~') ? source.replace(/^~/, process.env['HOME'] ?? '~') : source;
  return { source: hostPath ? (isAbsolute(expanded) ? expanded : resolve(cwd, expanded)) : source, target, readOnly: mode === 'ro' };
}

/** `-p HOST:CTR[/tcp|udp]`; cmesh binds it on 127.0.0.1 like every port it publishes. */
export function parsePublishFlag(flag: string): RunRequest['ports'][number] {
  const m = /^(?:127\.0\.0\.1:)?(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/.exec(flag);
  const hostPort = Number(m?.[1]);
  const containerPort = Number(m?.[2]);
  if (!m || hostPort < 1 || hostPort > 65535 || containerPort < 1 || containerPort > 65535) {
    throw new CmeshError('CMESH_E_USAGE', `-p ${flag}: not HOST:CONTAINER[/PROTOCOL]`, {
      hint: 'e.g. -p 8080:80 (cmesh publishes on 127.0.0.1 only)',
    });
  }
  return { hostPort, containerPort, protocol: (m[3] as 'tcp' | 'udp' | undefined) ?? 'tcp' };
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('run a one-off container of a service (dependencies first); its exit code is cmesh’s')
    .argument('<service>', 'the service whose config the container takes')
    .argument('[command...]', 'replaces the service’s command')
    .option('--rm', 'remove the container when it exits (also on Ctrl-C or failure)')
    .option('-d, --detach', 'start it in the background and print its name')
    .option('-e, --env <KEY=VAL>', 'set an environment variable; repeatable', collect)
    .option('--entrypoint <cmd>', 'override the image’s entrypoint')
    .option('--no-deps', 'do not start the service’s dependencies')
    .option('-v, --volume <SRC:DST[:ro]>', 'bind a host path or mount a volume; repeatable', collect)
    .option('--publish <HOST:CTR>', 'publish a port on 127.0.0.1 (`-p` works too); repeatable', collect)
    .option('--name <name>', 'the container’s name (default <project>-<service>-run-<id>)')
    .option('-u, --user <user>', 'run as this user (name or uid[:gid])')
    .option('-w, --workdir <dir>', 'working directory in the container')
    .option('-T, --no-tty', 'no pseudo-terminal (default: one when stdin and stdout are terminals)')
    // Compose spells the long form --no-TTY.
    .addOption(new Option('--no-TTY').hideHelp())
    .action(async (service: string, command: string[], opts: RunOptions, cmd: Command) => {
      if (opts.rm && opts.detach) {
        throw new CmeshError('CMESH_E_USAGE', 'run: --rm and --detach together are not supported', {
          hint: 'cmesh removes a --rm container when the attached run ends; detached, remove it with `cmesh rm -f`',
        });
      }
      const { project } = await loadComposeProject(cmd, ctx);
      if (!project.services[service]) {
        throw new CmeshError('CMESH_E_SERVICE_NOT_FOUND', `no service "${service}" in project "${project.name}"`, {
          hint: `services are: ${Object.keys(project.services).sort().join(', ')}`,
        });
      }
      let entrypoint: string[] | undefined;
      if (opts.entrypoint !== undefined) {
        const split = shellSplit(opts.entrypoint);
        if ('error' in split) throw new CmeshError('CMESH_E_USAGE', `--entrypoint: ${split.error}`);
        entrypoint = split.words;
      }
      const detach = opts.detach === true;
      const tty = !detach && wantsTty(ctx, !opts.tty || opts.TTY === false);
      const request: RunRequest = {
        project,
        service,
        command,
        env: parseEnvFlags(opts.env ?? [], ctx.env),
        volumes: (opts.volume ?? []).map((v) => parseVolumeFlag(v, ctx.cwd)),
        ports: (opts.publish ?? []).map(parsePublishFlag),
        tty,
        interactive: !detach,
        detach,
        noDeps: !opts.deps,
        dockerConfig: dockerConfigDir(ctx.env),
        ...(entrypoint ? { entrypoint } : {}),
        ...(opts.name === undefined ? {} : { name: opts.name }),
        ...(opts.user === undefined ? {} : { user: opts.user }),
        ...(opts.workdir === undefined ? {} : { workingDir: opts.workdir }),
      };
      const client = createDaemonClient(ctx);
      const base = `/v1/projects/${encodeURIComponent(project.name)}`;
      const created = await client.request<RunResult>('POST', `${base}/run`, request);
      if (detach) {
        ctx.stdout.write(`${created.name}\n`);
        return;
      }
      const attach: AttachRequest = { container: created.container, rm: opts.rm === true, tty, stdin: true };
      await runSession(client, ctx, withRequest(`${base}/attach`, attach), { tty, stdin: true });
    });
}
