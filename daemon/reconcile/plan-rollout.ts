// Start-first rollouts in plan(): which replicas roll, in what order, and what to do with a crashed rollout's leftovers.

import type { ContainerCreateSpec, ContainerInfo } from '../api/engine.ts';
import { Labels } from '../api/labels.ts';
import type { ProjectSpec, ServiceSpec } from '../api/project.ts';
import { createSpec } from './container-spec.ts';
import type { Action, ContainerRef, RolloutStep } from './plan-types.ts';

/**
 * New replicas started at once when `x-cmesh.rollout.max_surge` is not set: one, so the pool never serves more than
 * count + 1 containers of the service (old replicas already drained and stopping are not counted, as in Kubernetes).
 */
export const DEFAULT_MAX_SURGE = 1;

/**
 * `x-cmesh.rollout.max_surge`, else deploy.update_config.parallelism (0 = all at once, as in Swarm), never more than
 * the replicas that roll (and at least one).
 */
export function maxSurgeOf(service: ServiceSpec, steps: number): number {
  const parallelism = service.update?.parallelism;
  const wanted = service.mesh.rollout?.maxSurge ?? (parallelism === 0 ? steps : parallelism) ?? DEFAULT_MAX_SURGE;
  return Math.max(1, Math.min(wanted, steps));
}
/** How long a new replica may take to become healthy when nothing better is known. */
export const DEFAULT_ROLLOUT_TIMEOUT_MS = 60_000;

/** Start-first needs somebody to hold the traffic while two containers overlap: the mesh's proxy on a published port. */
export function isProxied(service: ServiceSpec): boolean {
  return service.ports.some((p) => p.published !== undefined && p.protocol === 'tcp');
}

/**
 * With a compose healthcheck, the bound it implies (start period + retries × (interval + timeout), plus slack) when
 * that is longer than the default; a slow-starting service must not be rolled back for being slow.
 */
export function rolloutTimeoutMs(service: ServiceSpec): number {
  const hc = service.healthcheck;
  if (!hc || hc.disable) return DEFAULT_ROLLOUT_TIMEOUT_MS;
  const interval = hc.intervalMs ?? 30_000;
  const derived = (hc.startPeriodMs ?? 0) + (hc.retries ?? 3) * (interval + (hc.timeoutMs ?? 30_000)) + 5_000;
  return Math.min(Math.max(DEFAULT_ROLLOUT_TIMEOUT_MS, derived), 600_000);
}

/** The new container of a rollout: temporary name, `next` marker, same replica index, the new spec hash. */
export function nextSpec(project: ProjectSpec, service: ServiceSpec, replica: number, hash: string): ContainerCreateSpec {
  const spec = createSpec(project, service, replica, hash);
  // `<canonical>-next`: isPendingNext() derives the same name back from the labels.
  return { ...spec, name: `${spec.name}-next`, labels: { ...spec.labels, [Labels.rollout]: 'next' } };
}

const refOf = (c: ContainerInfo, service: string, replica: number): ContainerRef => ({ id: c.id, name: c.name, service, replica });
const isUp = (c: ContainerInfo): boolean => c.state === 'running' || c.state === 'paused' || c.state === 'restarting';

function removal(c: ContainerInfo, service: string, replica: number, timeoutSec: number, reason: string): Action {
  const target = refOf(c, service, replica);
  return isUp(c) ? { kind: 'remove', target, stopTimeoutSec: timeoutSec, reason } : { kind: 'remove', target, reason };
}

/** Running first, then newest: the one worth promoting among leftovers. */
const bestFirst = (list: readonly ContainerInfo[]): ContainerInfo[] =>
  [...list].sort((a, b) => Number(b.state === 'running') - Number(a.state === 'running') || b.createdAt - a.createdAt || a.id.localeCompare(b.id));

export interface LeftoverInput {
  service: ServiceSpec;
  count: number;
  stopped: boolean;
  /** Indexes that have a canonical (old or current) container. */
  present: Set<number>;
  /** Indexes about to roll: their leftover becomes the step's `stale`. */
  rolling: Set<number>;
  next: Record<number, ContainerInfo[]>;
  timeoutSec: number;
}

/**
 * A pending `next` container means a rollout was interrupted (daemon crash, failed rename). Where the old replica is
 * gone, the new one is promoted (it was started, and health decides from here); where a rollout runs again, it is
 * replaced as the step's stale container; anywhere else it is removed.
 */
export function planLeftovers(input: LeftoverInput): { actions: Action[]; stale: Map<number, ContainerRef>; promoted: Set<number> } {
  const { service, count, stopped, present, rolling, timeoutSec } = input;
  const actions: Action[] = [];
  const stale = new Map<number, ContainerRef>();
  const promoted = new Set<number>();
  for (const index of Object.keys(input.next).map(Number).sort((a, b) => a - b)) {
    const [best, ...rest] = bestFirst(input.next[index] ?? []);
    if (!best) continue;
    for (const c of rest) actions.push(removal(c, service.name, index, timeoutSec, 'duplicate leftover of an interrupted rollout'));
    if (index > count || stopped) {
      actions.push(removal(best, service.name, index, timeoutSec, `leftover of an interrupted rollout (${stopped ? 'service stopped' : `scale ${count}`})`));
    } else if (!present.has(index)) {
      actions.push({ kind: 'promote', target: refOf(best, service.name, index), name: best.name.replace(/-next$/, ''), reason: 'interrupted rollout, old replica gone' });
      promoted.add(index);
    } else if (rolling.has(index)) {
      stale.set(index, refOf(best, service.name, index));
    } else {
      actions.push(removal(best, service.name, index, timeoutSec, 'leftover of an interrupted rollout'));
    }
  }
  return { actions, stale, promoted };
}

export interface RolloutInput {
  project: ProjectSpec;
  service: ServiceSpec;
  hash: string;
  timeoutSec: number;
  /** Old replicas to replace, by index. */
  targets: { index: number; container: ContainerInfo }[];
  stale: Map<number, ContainerRef>;
}

/** Lowest index first, so `cmesh ps` shows the rollout walking up the replicas. */
export function rolloutAction(input: RolloutInput): Action {
  const { project, service, hash } = input;
  const steps: RolloutStep[] = [...input.targets]
    .sort((a, b) => a.index - b.index)
    .map(({ index, container }) => {
      const stale = input.stale.get(index);
      return {
        target: refOf(container, service.name, index),
        next: nextSpec(project, service, index, hash),
        canonicalName: container.name,
        ...(stale ? { stale } : {}),
      };
    });
  const from = [...new Set(input.targets.map((t) => (t.container.labels[Labels.specHash] ?? 'none').slice(0, 12)))].sort().join(',');
  return {
    kind: 'rollout',
    service: service.name,
    specHash: hash,
    maxSurge: maxSurgeOf(service, steps.length),
    timeoutMs: rolloutTimeoutMs(service),
    stopTimeoutSec: input.timeoutSec,
    steps,
    reason: `spec changed (${from})`,
  };
}
