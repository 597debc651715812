// Deployment targets: where a project runs (local containers, or services of a Docker Swarm) and which verbs each
// target carries out. Picking one: the `--target` flag wins over CMESH_TARGET, which wins over `x-cmesh.target`.

import { CmeshError } from './errors.ts';

export const TARGETS = ['local', 'swarm'] as const;
export type Target = (typeof TARGETS)[number];

export function isTarget(v: string): v is Target {
  return (TARGETS as readonly string[]).includes(v);
}

/** flag > CMESH_TARGET > file; undefined when none chose (the daemon then keeps the project's target, else local). */
export function pickTarget(sources: { flag?: string | undefined; env?: string | undefined; file?: Target | undefined }): Target | undefined {
  for (const [from, value] of [['--target', sources.flag], ['CMESH_TARGET', sources.env]] as const) {
    if (value === undefined || value === '') continue;
    if (isTarget(value)) return value;
    throw new CmeshError('CMESH_E_USAGE', `${from} "${value.slice(0, 40)}" is not a target`, { hint: `use one of: ${TARGETS.join(', ')}` });
  }
  return sources.file;
}

/** Verbs each non-local target carries out; every other verb is refused by name, never run on the local engine. */
export const TARGET_VERBS: Record<Exclude<Target, 'local'>, readonly string[]> = {
  swarm: ['up', 'down', 'ps', 'scale', 'services', 'restart', 'logs', 'stop', 'start', 'kill', 'port', 'top', 'images', 'drain', 'exec', 'cp', 'events'],
};

/** Verbs a target refuses for good, with the reason and what to use instead (any other missing verb is "not yet"). */
export const TARGET_REFUSALS: Record<Exclude<Target, 'local'>, Readonly<Record<string, { why: string; instead: string }>>> = {
  swarm: Object.fromEntries(
    ['pause', 'unpause'].map((verb) => [
      verb,
      {
        why: 'Swarm has no paused task state: a frozen task fails its healthcheck and Swarm replaces it, or, without one, Swarm keeps counting it as running',
        instead: '`cmesh stop <service>` scales it to 0 and `cmesh start` brings the replicas back; `cmesh dash`\'s drain key takes one task out of the pool',
      },
    ]),
  ),
};

export function assertTargetSupports(project: string, target: Target, verb: string): void {
  if (target === 'local' || TARGET_VERBS[target].includes(verb)) return;
  const details = { project, target, verb };
  const refusal = TARGET_REFUSALS[target][verb];
  if (refusal) {
    throw new CmeshError('CMESH_E_TARGET_UNSUPPORTED', `\`cmesh ${verb}\` is not available on the ${target} target (project "${project}" runs there): ${refusal.why}`, {
      hint: refusal.instead,
      details: { ...details, reason: 'target-semantics' },
    });
  }
  throw new CmeshError('CMESH_E_TARGET_UNSUPPORTED', `\`cmesh ${verb}\` is not supported yet on the ${target} target (project "${project}" runs there)`, {
    hint: `the ${target} target supports: ${TARGET_VERBS[target].join(', ')}; \`cmesh down\` and \`cmesh up --target local\` run the project locally`,
    details,
  });
}

/** The target of an `up`: the requested one (flag, env or file), else the project's current one, else local. */
export function upTarget(project: string, current: Target | undefined, requested: Target | undefined): Target {
  const now = current ?? 'local';
  if (requested === undefined || current === undefined || requested === now) return requested ?? now;
  throw new CmeshError('CMESH_E_TARGET_CONFLICT', `project "${project}" runs on the ${now} target; \`up\` asked for ${requested}`, {
    hint: `run \`cmesh down\` first to move it to ${requested}, or drop --target / CMESH_TARGET / x-cmesh.target to keep it on ${now}`,
    details: { project, current: now, requested },
  });
}
