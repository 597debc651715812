// `cmesh export kubernetes`: the project as Kubernetes manifests. Loads the compose files exactly as `cmesh config`
// does (no daemon, no engine); the conversion itself is daemon/export/kubernetes, pure and tested on its own.

import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { CmeshError } from '../../daemon/api/errors.ts';
import type { CliContext } from '../cli-context.ts';
import { projectSelection, readGlobalOptions } from '../global-options.ts';
import { createColors, shouldUseColor } from '../output.ts';
import { formatWarning } from '../render-error.ts';

interface KubernetesOptions {
  output?: string;
  namespace?: string;
  expose?: 'loadbalancer' | 'nodeport' | 'ingress';
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

async function exportKubernetesCommand(ctx: CliContext, opts: KubernetesOptions, command: Command): Promise<void> {
  if (opts.namespace !== undefined && !DNS_LABEL.test(opts.namespace)) {
    throw new CmeshError('CMESH_E_USAGE', `--namespace "${opts.namespace}" is not a Kubernetes namespace name`, {
      hint: 'lower-case letters, digits and "-", at most 63 characters, starting and ending with a letter or digit',
    });
  }
  const globals = readGlobalOptions(command);
  const color = shouldUseColor(ctx.stderr, { env: ctx.env, color: globals.color });
  // Imported lazily: the models are large and only this verb needs them.
  const [{ loadProject }, { exportKubernetes }, { toFiles, toYamlStream }] = await Promise.all([
    import('../../daemon/config/index.ts'),
    import('../../daemon/export/kubernetes/export.ts'),
    import('../../daemon/export/kubernetes/write.ts'),
  ]);
  const loaded = await (ctx.overrides?.config?.loadProject ?? loadProject)(projectSelection(globals, ctx.cwd, ctx.env));
  const result = exportKubernetes(loaded.project, {
    ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
    ...(opts.expose !== undefined ? { expose: opts.expose } : {}),
    readFile: (file) => readFileSync(file),
    sources: loaded.project.files.map((file) => ({ file, text: readFileSync(file, 'utf8') })),
  });
  for (const w of [...loaded.warnings, ...result.warnings]) ctx.stderr.write(formatWarning(w, { color }));
  const c = createColors(color);
  for (const note of result.notes) ctx.stderr.write(`${c.cyan('note')}: ${note}\n`);
  if (opts.output === undefined) {
    ctx.stdout.write(toYamlStream(result.objects));
    return;
  }
  const dir = resolve(ctx.cwd, opts.output);
  await mkdir(dir, { recursive: true });
  const files = toFiles(result.objects);
  const before = new Set((await readdir(dir)).filter((f) => f.endsWith('.yaml')));
  for (const [name, text] of files) {
    await writeFile(join(dir, name), text);
    ctx.stdout.write(`${join(opts.output, name)}\n`);
  }
  // Files of an earlier export that this one did not write would be applied too by `kubectl apply -f DIR`.
  const stale = [...before].filter((f) => !files.has(f));
  if (stale.length > 0) ctx.stderr.write(`${c.yellow('warning')}: ${opts.output} also holds ${stale.join(', ')}, not written by this export\n`);
}

export function register(program: Command, ctx: CliContext): void {
  const exp = program.command('export').description('convert the project for another platform');
  exp
    .command('kubernetes')
    .description('write Kubernetes manifests: Deployments, Services, PVCs, ConfigMaps, Secrets')
    .option('-o, --output <dir>', 'write one file per object, <kind>-<name>.yaml (default: all on stdout, separated by ---)')
    .option('--namespace <ns>', 'set metadata.namespace on every object (default: none)')
    .addOption(new Option('--expose <mode>', 'publish published ports through a LoadBalancer or NodePort Service, or an Ingress').choices(['loadbalancer', 'nodeport', 'ingress']))
    .action((opts: KubernetesOptions, command: Command) => exportKubernetesCommand(ctx, opts, command));
}
