// `cmesh run`'s Compose v2 flags beyond the basics (run.ts): labels, capabilities, --service-ports, --env-from-file,
// --pull, and the flags cmesh refuses by name (with what to do instead) rather than with commander's "unknown option".

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RunRequest } from '../daemon/api/control.ts';
import { CmeshError, formatPosition } from '../daemon/api/errors.ts';
import type { ProjectSpec, PullPolicy } from '../daemon/api/project.ts';
import { parseEnvFile } from '../daemon/config/env-file.ts';
import type { Env } from './output.ts';

/** `-l KEY=VAL` (repeatable): the one-off's extra labels; `dev.cmesh.*` are cmesh's own and cannot be set. */
export function parseLabelFlags(flags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const at = flag.indexOf('=');
    const key = at < 0 ? flag : flag.slice(0, at);
    if (key === '' || /\s/.test(key) || key.startsWith('dev.cmesh.')) {
      throw new CmeshError('CMESH_E_USAGE', `-l ${flag}: not a label KEY=VALUE`, {
        hint: 'write -l com.example.job=migrate; dev.cmesh.* labels are cmesh’s own',
      });
    }
    out[key] = at < 0 ? '' : flag.slice(at + 1);
  }
  return out;
}

/**
 * `--service-ports` / `-P`: the service's published ports, bound by the one-off itself on 127.0.0.1 (as every port
 * cmesh publishes). A host range takes its first port. The mesh proxy holds them while the service is up, so the
 * engine then refuses the bind, as Compose's run collides with a running service.
 */
export function servicePorts(project: ProjectSpec, service: string): RunRequest['ports'] {
  return (project.services[service]?.ports ?? []).flatMap((p) =>
    p.published === undefined || p.published === 0 ? [] : [{ hostPort: p.published, containerPort: p.target, protocol: p.protocol }],
  );
}

/** `--env-from-file FILE` (repeatable): dotenv files read in order; `-e` goes on top of them. */
export function readEnvFromFiles(files: readonly string[], cwd: string, env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const file of files) {
    const path = resolve(cwd, file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new CmeshError('CMESH_E_ENV_FILE', `--env-from-file ${file}: ${(err as Error).message}`, { hint: 'the path is relative to the current directory' });
    }
    const parsed = parseEnvFile(path, text, (name) => env[name]);
    const problem = parsed.problems[0];
    if (problem) {
      throw new CmeshError('CMESH_E_ENV_FILE', `${formatPosition(problem.position)}: ${problem.message}`, { hint: 'expected KEY=VALUE lines' });
    }
    for (const [k, v] of parsed.values) out[k] = v;
  }
  return out;
}

const PULL_POLICIES = ['always', 'missing', 'never', 'build'] as const;

/** `--pull always|missing|never|build`: replaces the service's pull_policy for this run (the daemon pulls accordingly). */
export function withPullPolicy(project: ProjectSpec, service: string, pull: string | undefined): ProjectSpec {
  if (pull === undefined || pull === 'policy') return project;
  if (!(PULL_POLICIES as readonly string[]).includes(pull)) {
    throw new CmeshError('CMESH_E_USAGE', `--pull ${pull}: not a pull policy`, { hint: `one of: policy, ${PULL_POLICIES.join(', ')}` });
  }
  const svc = project.services[service]!;
  return { ...project, services: { ...project.services, [service]: { ...svc, pullPolicy: pull as PullPolicy } } };
}

/** Compose run flags with no one-off meaning in cmesh: refused by name, each with what to do instead. */
const REFUSED_RUN_FLAGS: Record<string, string> = {
  removeOrphans: '`cmesh up --remove-orphans` or `cmesh down --remove-orphans` removes containers of services no longer in the file',
};

export function refuseRunFlags(opts: object): void {
  for (const [key, hint] of Object.entries(REFUSED_RUN_FLAGS)) {
    if ((opts as Record<string, unknown>)[key] === undefined) continue;
    const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new CmeshError('CMESH_E_USAGE', `run: ${flag} is not supported`, { hint });
  }
}
