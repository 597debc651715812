// `cmesh up`: send the loaded project to the daemon, which builds what is missing and converges the engine to it.
// Foreground (no -d) streams the replicas' logs afterwards (not of `attach: false` services) and Ctrl-C stops the
// project, like Compose.

import type { Command } from 'commander';
import type { UpRequest } from '../../daemon/api/control.ts';
import { CmeshError } from '../../daemon/api/errors.ts';
import { pickTarget } from '../../daemon/api/target.ts';
import { REGISTRY } from '../../daemon/config/registry-name.ts';
import { assertWritable } from '../ci/report.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { dockerConfigDir } from '../docker-config.ts';
import { frameWriter } from '../event-text.ts';
import { startDevWatch } from '../dev-watch.ts';
import { printLogs } from '../follow-logs.ts';
import { type GlobalOptions, readGlobalOptions } from '../global-options.ts';
import { colorsFor, shouldUseColor } from '../output.ts';
import { loadProjectWith } from '../project-ref.ts';
import { parseScale } from './scale.ts';
import { attachedServices } from './up-attach.ts';

export interface UpOptions {
  detach?: boolean;
  wait?: boolean;
  timeout: string;
  build?: boolean;
  scale?: string[];
  report?: string;
  reportJson?: string;
  watch?: boolean;
  target?: string;
  registry?: string;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function parseSeconds(text: string): number {
  const n = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(n) || n <= 0) throw new CmeshError('CMESH_E_USAGE', `--timeout takes seconds > 0, not "${text}"`);
  return Math.round(n * 1000);
}

async function ciReports(opts: UpOptions): Promise<{ junit?: string; json?: string }> {
  if ((opts.report || opts.reportJson) && !opts.wait) throw new CmeshError('CMESH_E_USAGE', '--report and --report-json need --wait');
  if (opts.report) await assertWritable(opts.report, '--report');
  if (opts.reportJson) await assertWritable(opts.reportJson, '--report-json');
  return { ...(opts.report ? { junit: opts.report } : {}), ...(opts.reportJson ? { json: opts.reportJson } : {}) };
}

function checkRegistry(value: string): string {
  if (REGISTRY.test(value)) return value;
  throw new CmeshError('CMESH_E_USAGE', `--registry "${value.slice(0, 60)}" is not a registry`, { hint: 'e.g. 127.0.0.1:5000 or registry.example.com/team (no scheme, no tag)' });
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('up')
    .description('create and start the project’s services (pulls and builds missing images)')
    .argument('[services...]', 'only these services and their dependencies')
    .option('-d, --detach', 'return once started instead of streaming logs')
    .option('--wait', 'wait until every replica is running and healthy (implies -d)')
    .option('--timeout <seconds>', 'how long --wait waits before failing', '120')
    .option('--build', 'build images before starting, even when they exist')
    .option('--no-build', 'do not build images, even missing ones')
    .option('--scale <service=replicas>', 'replica count for a service; repeatable', collect)
    .option('--target <target>', 'where to deploy: local or swarm (overrides CMESH_TARGET and x-cmesh.target)')
    .option('--registry <host>', 'swarm target: push images there and deploy them by digest (overrides x-cmesh.registry)')
    .option('--watch', 'foreground: also rebuild + roll out (zero downtime) or sync files as sources change')
    .option('--report <junit.xml>', 'with --wait: write a JUnit verdict per service (CI smoke mode)')
    .option('--report-json <file>', 'with --wait: write the verdict per service as JSON')
    .action((services: string[], opts: UpOptions, command: Command) => runUp(services, opts, readGlobalOptions(command), ctx));
}

/** `up` from parsed options: the commander action above, and cli/fast-path.ts for a plain `up -d`. */
export async function runUp(services: string[], opts: UpOptions, globals: GlobalOptions, ctx: CliContext): Promise<void> {
  // Bad flags fail before anything is loaded, built or started.
  const startedAt = Date.now();
  const timeoutMs = parseSeconds(opts.timeout);
  const reports = await ciReports(opts);
  const targetSources = { flag: opts.target, env: ctx.env['CMESH_TARGET'] };
  pickTarget(targetSources);
  const registry = opts.registry === undefined ? undefined : checkRegistry(opts.registry);
  const { project: loaded } = await loadProjectWith(globals, ctx);
  const project = registry === undefined ? loaded : { ...loaded, registry };
  const target = pickTarget({ ...targetSources, file: project.target });
  if (target === 'swarm' && (opts.watch || (!opts.detach && !opts.wait))) {
    // Foreground `up` follows logs and `--watch` rolls out rebuilds: neither is carried out on swarm yet.
    throw new CmeshError('CMESH_E_TARGET_UNSUPPORTED', `\`cmesh up${opts.watch ? ' --watch' : ''}\` in the foreground is not supported yet on the swarm target`, {
      hint: 'use `cmesh up --target swarm -d` (or `--wait` to wait until every task is running and healthy)',
    });
  }
  const body: UpRequest = {
    project,
    services,
    build: opts.build === true ? 'always' : opts.build === false ? 'never' : 'auto',
    wait: opts.wait === true,
    timeoutMs,
    dockerConfig: dockerConfigDir(ctx.env),
  };
  if (opts.scale) body.scale = Object.fromEntries(opts.scale.map(parseScale));
  if (target !== undefined) body.target = target;

  const client = createDaemonClient(ctx);
  const c = colorsFor(ctx.stderr, { env: ctx.env, color: globals.color });
  const base = `/v1/projects/${encodeURIComponent(project.name)}`;
  if (opts.wait) {
    // CI smoke mode: readiness, mesh health and a probe per published port, then a per-service verdict.
    const selected = services.length > 0 ? services : Object.keys(project.services);
    const up = () => client.operation(`${base}/up`, { ...body, timeoutMs: Math.max(1000, timeoutMs - (Date.now() - startedAt)) }, frameWriter(ctx.stderr, c));
    // Lazy: the probes' net/https/tls (with node:crypto) would cost every CLI start ~10 ms.
    const { runCiWait } = await import('../ci/ci-wait.ts');
    await runCiWait({ client, project: project.name, services: selected, timeoutMs, startedAt, out: ctx.stdout, up, reports });
    return;
  }
  await client.operation(`${base}/up`, body, frameWriter(ctx.stderr, c));
  if (opts.detach) return;

  // Attached mode: logs until Ctrl-C, then stop (not remove) what we started.
  const ac = new AbortController();
  let stopping: Promise<unknown> | undefined;
  const onSigint = (): void => {
    if (stopping) {
      ctx.stderr.write('Forcing exit; the daemon finishes stopping the containers.\n');
      process.exit(130);
    }
    ctx.stderr.write('Gracefully stopping... (press Ctrl+C again to force)\n');
    ac.abort();
    stopping = client.request('POST', `${base}/stop`, { services });
  };
  process.on('SIGINT', onSigint);
  try {
    // --watch (foreground only): the watcher lives as long as the log stream; Ctrl-C ends both.
    const watcher = opts.watch ? await startDevWatch({ client, project, services, out: ctx.stderr, c, signal: ac.signal }) : undefined;
    const attached = attachedServices(project, services);
    if (attached?.length === 0) {
      // Every service says `attach: false`: nothing to stream, the project still runs until Ctrl-C.
      ctx.stderr.write('No service is attached (attach: false); press Ctrl+C to stop.\n');
      await new Promise<void>((resolve) => ac.signal.addEventListener('abort', () => resolve(), { once: true }));
    } else {
      await printLogs(client, ctx.stdout, {
        project: project.name,
        services: attached ?? services,
        follow: true,
        timestamps: false,
        color: shouldUseColor(ctx.stdout, { env: ctx.env, color: globals.color }),
        signal: ac.signal,
      });
    }
    await watcher?.close();
    if (stopping) {
      await stopping;
      ctx.stderr.write(`Project ${project.name}  ${c.green('Stopped')}\n`);
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}
