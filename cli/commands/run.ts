// `cmesh run [--rm] [-d] [-e K=V]… [--env-from-file F]… [-l K=V]… [--entrypoint CMD] [--no-deps] [-v SRC:DST[:ro]]…
// [-p HOST:CTR]… [-P] [--name N] [-u U] [-w DIR] [-T] [--cap-add C]… [--cap-drop C]… [--use-aliases] [--build|--no-build]
// [--pull P] svc [cmd…]`: a one-off container with the service's config, like `docker compose run`. The daemon starts
// the dependencies and creates it; attached, its exit code is cmesh's and `--rm` leaves nothing behind; detached,
// `--rm` has the engine remove it when it exits.

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
import { parseLabelFlags, readEnvFromFiles, refuseRunFlags, servicePorts, withPullPolicy } from '../run-options.ts';

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
  tty?: boolean;
  TTY?: boolean;
  label?: string[];
  envFromFile?: string[];
  capAdd?: string[];
  capDrop?: string[];
  servicePorts?: boolean;
  useAliases?: boolean;
  build?: boolean;
  pull?: string;
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

/** `--build` / `--no-build` (commander reads both into `build`: true, false, or undefined when neither is given). */
function buildMode(opts: RunOptions): 'always' | 'never' | undefined {
  return opts.build === true ? 'always' : opts.build === false ? 'never' : undefined;
}

/** -T, --no-tty or --no-TTY given. `tty` is false only then: with Compose's -t declared too, its default is undefined. */
export function noTtyFlag(opts: { tty?: boolean; TTY?: boolean }): boolean {
  return opts.tty === false || opts.TTY === false;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('run a one-off container of a service (dependencies first); its exit code is cmesh’s')
    .argument('<service>', 'the service whose config the container takes')
    .argument('[command...]', 'replaces the service’s command')
    .option('--rm', 'remove the container when it exits (also on Ctrl-C or failure; detached, the engine removes it)')
    .option('-d, --detach', 'start it in the background and print its name')
    .option('-e, --env <KEY=VAL>', 'set an environment variable; repeatable', collect)
    .option('--env-from-file <file>', 'set environment variables from a dotenv file (-e goes on top); repeatable', collect)
    .option('-l, --label <KEY=VAL>', 'add or override a label; repeatable', collect)
    .option('--cap-add <cap>', 'add a Linux capability; repeatable', collect)
    .option('--cap-drop <cap>', 'drop a Linux capability; repeatable', collect)
    .option('-P, --service-ports', 'publish the service’s ports (on 127.0.0.1; the mesh holds them while the service is up)')
    .option('--use-aliases', 'give the container the service’s network aliases')
    .option('--build', 'build the image before starting the container')
    .option('--no-build', 'do not build the image, even when it is missing')
    .option('--pull <policy>', 'pull the image first: policy (the default), always, missing, never or build')
    .option('--quiet-pull', 'pull without progress (run never prints pull progress)')
    .option('-i, --interactive', 'keep stdin open (the default when attached)')
    .addOption(new Option('-t, --tty').hideHelp())
    .addOption(new Option('--remove-orphans').hideHelp())
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
      refuseRunFlags(opts);
      const loaded = (await loadComposeProject(cmd, ctx)).project;
      if (!loaded.services[service]) {
        throw new CmeshError('CMESH_E_SERVICE_NOT_FOUND', `no service "${service}" in project "${loaded.name}"`, {
          hint: `services are: ${Object.keys(loaded.services).sort().join(', ')}`,
        });
      }
      const project = withPullPolicy(loaded, service, opts.pull);
      let entrypoint: string[] | undefined;
      if (opts.entrypoint !== undefined) {
        const split = shellSplit(opts.entrypoint);
        if ('error' in split) throw new CmeshError('CMESH_E_USAGE', `--entrypoint: ${split.error}`);
        entrypoint = split.words;
      }
      const detach = opts.detach === true;
      const tty = !detach && wantsTty(ctx, noTtyFlag(opts));
      const build = buildMode(opts);
      const request: RunRequest = {
        project,
        service,
        command,
        env: { ...readEnvFromFiles(opts.envFromFile ?? [], ctx.cwd, ctx.env), ...parseEnvFlags(opts.env ?? [], ctx.env) },
        volumes: (opts.volume ?? []).map((v) => parseVolumeFlag(v, ctx.cwd)),
        ports: [...(opts.servicePorts ? servicePorts(project, service) : []), ...(opts.publish ?? []).map(parsePublishFlag)],
        tty,
        interactive: !detach,
        detach,
        noDeps: !opts.deps,
        ...(detach && opts.rm ? { rm: true } : {}),
        ...(opts.label ? { labels: parseLabelFlags(opts.label) } : {}),
        ...(opts.capAdd ? { capAdd: opts.capAdd } : {}),
        ...(opts.capDrop ? { capDrop: opts.capDrop } : {}),
        ...(opts.useAliases ? { useAliases: true } : {}),
        ...(build ? { build } : {}),
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
