// `cmesh config`: load, validate and print the normalized project, like `docker compose config`. Runs locally,
// no daemon or engine needed, so it is the quickest way to check a compose file.

import type { Command } from 'commander';
import { type CmeshError, isCmeshError } from '../../daemon/api/errors.ts';
import type { ConfigWarning, KeyReport, LoadedProject } from '../../daemon/api/project.ts';
import type { CliContext, ConfigDeps } from '../cli-context.ts';
import { projectSelection, readGlobalOptions } from '../global-options.ts';
import { printJson, printLines, shouldUseColor } from '../output.ts';
import { formatWarning } from '../render-error.ts';

export type { ConfigDeps } from '../cli-context.ts';

interface ConfigOptions {
  json?: boolean;
  services?: boolean;
  volumes?: boolean;
  quiet?: boolean;
}

async function loadDeps(ctx: CliContext): Promise<ConfigDeps> {
  if (ctx.overrides?.config) return ctx.overrides.config;
  // Imported lazily so `cmesh --version` and verbs that only talk to the daemon don't pay for the loader.
  const loader = await import('../../daemon/config/index.ts');
  return { loadProject: loader.loadProject, projectToComposeYaml: loader.projectToComposeYaml };
}

function warningsOf(err: CmeshError): ConfigWarning[] {
  const list = err.details['warnings'];
  if (!Array.isArray(list)) return [];
  return list.filter((w): w is ConfigWarning => typeof w === 'object' && w !== null && typeof w.message === 'string');
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('config')
    .description('validate and print the normalized project')
    .option('--json', 'JSON instead of YAML (errors too, on stderr)')
    .option('--services', 'print the service names, one per line')
    .option('--volumes', 'print the volume names, one per line')
    .option('-q, --quiet', 'only validate; print just warnings and errors')
    .action(async (opts: ConfigOptions, command: Command) => {
      const globals = readGlobalOptions(command);
      const deps = await loadDeps(ctx);
      const color = shouldUseColor(ctx.stderr, { env: ctx.env, color: globals.color });
      const warn = (warnings: readonly ConfigWarning[]) => {
        for (const w of warnings) ctx.stderr.write(formatWarning(w, { color }));
      };
      let loaded: LoadedProject;
      try {
        loaded = await deps.loadProject(projectSelection(globals, ctx.cwd, ctx.env));
      } catch (err) {
        // A failed load still carries the warnings found so far; with --json they are inside the error object.
        if (isCmeshError(err) && !opts.json) warn(warningsOf(err));
        throw err;
      }
      const { project, warnings } = loaded;
      warn(warnings);
      // Last line on stderr whatever the output mode, so a user sees at once what would differ from Compose.
      const summary = loaded.keys === undefined ? undefined : keySummary(loaded.keys);
      const finish = () => {
        if (summary !== undefined) ctx.stderr.write(`${summary}\n`);
      };

      if (opts.quiet) return finish();
      if (opts.services || opts.volumes) {
        const names = [
          ...(opts.services ? Object.keys(project.services) : []),
          ...(opts.volumes ? Object.keys(project.volumes) : []),
        ];
        if (opts.json) printJson(names, ctx.stdout);
        else printLines(names, ctx.stdout);
        return finish();
      }
      const yaml = deps.projectToComposeYaml(project);
      if (opts.json) {
        // Same document as the YAML, so `config --json | jq` and `config` never disagree.
        const { composeYamlToData } = await import('../../daemon/config/render-yaml.ts');
        printJson(composeYamlToData(yaml), ctx.stdout);
      } else {
        ctx.stdout.write(yaml.endsWith('\n') ? yaml : `${yaml}\n`);
      }
      finish();
    });
}

const SHOWN = 10;

/** `config: 41 compose keys honoured, 2 ignored (services.web.cap_add, services.web.init)`. */
export function keySummary(keys: KeyReport): string {
  const n = keys.ignored.length;
  const honoured = `config: ${keys.honoured} compose key${keys.honoured === 1 ? '' : 's'} honoured`;
  if (n === 0) return `${honoured}, none ignored`;
  const shown = keys.ignored.slice(0, SHOWN).join(', ');
  return `${honoured}, ${n} ignored (${shown}${n > SHOWN ? `, and ${n - SHOWN} more` : ''})`;
}
