// `deploy:` → what a single local engine can mean by it. replicas and resources are read elsewhere (service.ts,
// container-resources.ts); here: restart_policy (Compose v2 maps it onto the container's restart policy, and it wins
// over `restart`), mode, update_config (cmesh's rollout), and named warnings for what only Swarm does.

import type { ServiceSpec } from '../../api/project.ts';
import { get, type YMap, type YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { DEPLOY_MODES, RESTART_CONDITIONS, RESTART_POLICY_KEYS, UPDATE_CONFIG_KEYS, UPDATE_ORDERS } from '../schema.ts';
import { checkKeys, type Ctx, readDuration, readEnum, readInt, readMap } from './read.ts';

export interface DeployResult {
  replicas?: { n: number; node: YNode };
  /** deploy.mode: global → exactly one replica here. */
  global?: { node: YNode };
}

/** Swarm-only keys: accepted, and a warning says what cmesh does instead. */
const SWARM_ONLY: Record<string, string> = {
  labels: 'deploy.labels are Swarm service labels; cmesh runs plain containers (use the service\'s `labels:` for container labels)',
  endpoint_mode: 'deploy.endpoint_mode is Swarm service discovery; cmesh\'s own proxy and DNS aliases serve the service',
  placement: 'deploy.placement places Swarm tasks on nodes; cmesh runs on one engine, every replica lands here',
  rollback_config: 'deploy.rollback_config is Swarm\'s; a cmesh rollout that fails removes the new replica and keeps the old ones serving',
};

export function readDeploy(ctx: Ctx, d: YMap, path: PathSeg[], spec: ServiceSpec): DeployResult {
  const out: DeployResult = {};
  for (const e of d.entries.values()) {
    const p = [...path, e.key];
    const v = e.value;
    switch (e.key) {
      case 'replicas': {
        const n = readInt(ctx, v, p, { min: 0, max: 1000 });
        if (n !== undefined) out.replicas = { n, node: v };
        break;
      }
      case 'restart_policy':
        readRestartPolicy(ctx, v, p, spec);
        break;
      case 'mode': {
        const mode = readEnum(ctx, v, p, DEPLOY_MODES);
        if (mode === 'global') out.global = { node: v };
        if (mode === 'replicated-job' || mode === 'global-job') {
          ctx.issues.error(v.pos, p, `deploy.mode "${mode}" is a Swarm job (run to completion across the cluster); cmesh does not run jobs`, 'use `deploy.mode: replicated` (or drop it) with `restart: "no"` for a one-shot container, and depends_on condition service_completed_successfully to wait for it');
        }
        break;
      }
      case 'update_config':
        readUpdateConfig(ctx, v, p, spec);
        break;
      default:
        if (Object.hasOwn(SWARM_ONLY, e.key) && ctx.issues.canWarn) ctx.issues.warn(e.keyPos, p, `${SWARM_ONLY[e.key]}; ignored`);
    }
  }
  return out;
}

/**
 * condition none|on-failure|any → restart no|on-failure|always, max_attempts → the retry limit (Compose v2 does the
 * same with the engine's policy and prefers it over `restart`). delay and window have no engine equivalent; cmesh's
 * supervisor honours them: a fixed wait between restarts, and the run that counts as recovered.
 */
function readRestartPolicy(ctx: Ctx, node: YNode, path: PathSeg[], spec: ServiceSpec): void {
  const m = readMap(ctx, node, path, 'e.g. `restart_policy: {condition: on-failure, max_attempts: 3}`');
  if (m === undefined) return;
  checkKeys(ctx, m, path, { supported: RESTART_POLICY_KEYS });
  const condition = get(m, 'condition');
  const c = condition === undefined ? 'any' : readEnum(ctx, condition, [...path, 'condition'], RESTART_CONDITIONS);
  if (c === undefined) return;
  spec.restart = c === 'none' ? 'no' : c === 'any' ? 'always' : 'on-failure';
  delete spec.restartMaxRetries;
  const max = get(m, 'max_attempts');
  const n = max === undefined ? undefined : readInt(ctx, max, [...path, 'max_attempts'], { min: 0, max: 1_000_000 });
  if (n !== undefined) spec.restartMaxRetries = n;
  const delay = get(m, 'delay');
  const delayMs = delay === undefined ? undefined : readDuration(ctx, delay, [...path, 'delay']);
  if (delayMs !== undefined) spec.restartDelayMs = delayMs;
  const window = get(m, 'window');
  const windowMs = window === undefined ? undefined : readDuration(ctx, window, [...path, 'window']);
  if (windowMs !== undefined) spec.restartWindowMs = windowMs;
}

/** Swarm keys of update_config with no meaning in a local rollout, and why. */
const UPDATE_IGNORED: Record<string, string> = {
  delay: 'a replica is replaced as soon as the previous one serves (x-cmesh.rollout)',
  monitor: 'a new replica is judged by its health checks until it passes or the rollout times out',
  max_failure_ratio: 'one failed replica rolls the rollout back',
};

/**
 * parallelism → how many replicas roll at once (x-cmesh.rollout.max_surge wins when both are set; 0 = all), order
 * stop-first|start-first → recreate stop-first or roll start-first (start-first needs a published port to hold traffic).
 * failure_action: cmesh always rolls back the failed replica, so only `rollback` means what it says.
 */
function readUpdateConfig(ctx: Ctx, node: YNode, path: PathSeg[], spec: ServiceSpec): void {
  const m = readMap(ctx, node, path, 'e.g. `update_config: {parallelism: 2, order: start-first}`');
  if (m === undefined) return;
  checkKeys(ctx, m, path, { supported: UPDATE_CONFIG_KEYS });
  const update: NonNullable<ServiceSpec['update']> = {};
  for (const e of m.entries.values()) {
    const p = [...path, e.key];
    if (e.key === 'parallelism') {
      const n = readInt(ctx, e.value, p, { min: 0, max: 1000 });
      if (n !== undefined) update.parallelism = n;
    } else if (e.key === 'order') {
      const order = readEnum(ctx, e.value, p, UPDATE_ORDERS);
      if (order !== undefined) update.order = order;
    } else if (e.key === 'failure_action') {
      const action = readEnum(ctx, e.value, p, ['continue', 'rollback', 'pause'] as const);
      if (action !== undefined && action !== 'rollback' && ctx.issues.canWarn) {
        ctx.issues.warn(e.value.pos, p, `failure_action "${action}" is not honoured: a failed cmesh rollout always rolls the failed replica back and keeps the old ones serving`);
      }
    } else if (Object.hasOwn(UPDATE_IGNORED, e.key) && ctx.issues.canWarn) {
      ctx.issues.warn(e.keyPos, p, `update_config.${e.key} is Swarm's and ignored: ${UPDATE_IGNORED[e.key]}`);
    }
  }
  if (Object.keys(update).length > 0) spec.update = update;
}
