// Converges one service: compares its observed replicas with the desired count and spec hash, replica by replica.

import { isMeshedEastWest } from '../api/east-west.ts';
import type { ContainerInfo } from '../api/engine.ts';
import { Labels } from '../api/labels.ts';
import type { ProjectSpec, ServiceSpec } from '../api/project.ts';
import { createSpec, stopTimeoutSec } from './container-spec.ts';
import { isProxied, planLeftovers, rolloutAction } from './plan-rollout.ts';
import type { Action, ContainerRef, DeferredRestart, PlanContext } from './plan-types.ts';
import { decideRestart, replicaKey, restartRule } from './supervisor.ts';

export interface ServiceInput {
  project: ProjectSpec;
  service: ServiceSpec;
  /** Desired replica count. */
  count: number;
  /** `cmesh stop`: keep the containers, do not run them. */
  stopped: boolean;
  /** When the desired state last changed; an exit before it predates the user's latest intent. */
  updatedAt: number;
  hash: string;
  observed: Record<number, ContainerInfo[]>;
  /** Pending new containers of an interrupted start-first rollout, by index. */
  next?: Record<number, ContainerInfo[]>;
  /** The spec hash whose rollout failed for this desired generation: not retried. */
  failedHash?: string;
  /**
   * Namespaces this service joins (`network_mode`/`ipc`/`pid`/`uts: service:x`): per joined service, whether its first
   * replica gets a new container in this pass, and when its current container started. A replica that started before
   * the container it joined has lost that namespace and is recreated.
   */
  joins?: { service: string; replacedNow: boolean; startedAt?: number }[];
}

export interface ServiceOutput {
  actions: Action[];
  deferred: DeferredRestart[];
  notes: string[];
}

export function refOf(c: ContainerInfo, service: string, replica: number): ContainerRef {
  return { id: c.id, name: c.name, service, replica };
}

const isUp = (c: ContainerInfo): boolean => c.state === 'running' || c.state === 'paused' || c.state === 'restarting';

/** The container to keep among duplicates of one index: a running one before a stopped one, then the newest. */
function keeperFirst(list: readonly ContainerInfo[]): ContainerInfo[] {
  return [...list].sort(
    (a, b) => Number(isUp(b)) - Number(isUp(a)) || b.createdAt - a.createdAt || a.id.localeCompare(b.id),
  );
}

/** Removal of a container, stopping it first when it runs (the engine would kill it otherwise). */
export function removeAction(c: ContainerInfo, ref: ContainerRef, timeoutSec: number, reason: string): Action {
  return isUp(c) ? { kind: 'remove', target: ref, stopTimeoutSec: timeoutSec, reason } : { kind: 'remove', target: ref, reason };
}

export function planService(input: ServiceInput, ctx: PlanContext): ServiceOutput {
  const { project, service, count, stopped, hash } = input;
  const out: ServiceOutput = { actions: [], deferred: [], notes: [] };
  const timeoutSec = stopTimeoutSec(service);
  const indexes = Object.keys(input.observed)
    .map(Number)
    .sort((a, b) => a - b);

  // Scale down removes the highest indexes first, so the survivors keep the low, stable names.
  for (const index of [...indexes].reverse()) {
    if (index <= count) break;
    for (const c of keeperFirst(input.observed[index] ?? [])) {
      out.actions.push(removeAction(c, refOf(c, service.name, index), timeoutSec, `scale down to ${count}`));
    }
  }
  const rolling: { index: number; container: ContainerInfo }[] = [];
  for (const index of indexes) {
    if (index > count) break;
    const [keep, ...extras] = keeperFirst(input.observed[index] ?? []);
    if (!keep) continue;
    for (const c of extras) {
      out.actions.push(removeAction(c, refOf(c, service.name, index), timeoutSec, `duplicate of ${keep.name} (${keep.id})`));
    }
    if (rollsOut(input, keep)) {
      if (input.failedHash === hash) out.notes.push(`${keep.name}: rollout to ${hash.slice(0, 12)} failed, old version kept until the desired state changes`);
      else rolling.push({ index, container: keep });
      continue;
    }
    convergeReplica(input, ctx, keep, index, timeoutSec, out);
  }

  const present = new Set(indexes.filter((i) => (input.observed[i] ?? []).length > 0));
  const leftovers = planLeftovers({
    service,
    count,
    stopped,
    present,
    rolling: new Set(rolling.map((r) => r.index)),
    next: input.next ?? {},
    timeoutSec,
  });
  out.actions.push(...leftovers.actions);
  if (rolling.length > 0) {
    out.actions.push(rolloutAction({ project, service, hash, timeoutSec, targets: rolling, stale: leftovers.stale }));
  }

  if (!stopped) {
    for (const index of leftovers.promoted) present.add(index);
    for (let index = 1; index <= count; index++) {
      if (present.has(index)) continue;
      const spec = createSpec(project, service, index, hash);
      out.actions.push({ kind: 'create', service: service.name, replica: index, specHash: hash, spec, start: true });
    }
  }
  return out;
}

/**
 * Start-first applies to a running replica whose spec changed of a service a proxy holds the traffic of: a published
 * one, or one meshed east-west (its callers reach it through the gateway). Anything else, and a service that asks for
 * it (deploy.update_config.order: stop-first), is stop-first.
 */
function rollsOut(input: ServiceInput, c: ContainerInfo): boolean {
  if (input.service.update?.order === 'stop-first') return false;
  const held = isProxied(input.service) || isMeshedEastWest(input.project, input.service.name);
  return !input.stopped && held && c.state === 'running' && c.labels[Labels.specHash] !== input.hash;
}

/** Why a replica's joined namespace is gone (its service:x container was or is being replaced), or undefined. */
function lostNamespace(input: ServiceInput, c: ContainerInfo): string | undefined {
  // A replica that is not running joins whatever it finds when its restart policy (or `start`) starts it again.
  if (c.state !== 'running') return undefined;
  for (const j of input.joins ?? []) {
    if (j.replacedNow) return `joins ${j.service}'s namespace, whose container is replaced or restarted`;
    if (j.startedAt !== undefined && c.startedAt !== undefined && j.startedAt > c.startedAt) {
      return `joins ${j.service}'s namespace, whose container started after it`;
    }
  }
  return undefined;
}

function convergeReplica(
  input: ServiceInput,
  ctx: PlanContext,
  c: ContainerInfo,
  index: number,
  timeoutSec: number,
  out: ServiceOutput,
): void {
  const { service, stopped, hash } = input;
  const ref = refOf(c, service.name, index);
  // Paused replicas are somebody's experiment (tests pause on purpose); restarting/removing ones are the engine's.
  if (c.state === 'paused' || c.state === 'restarting' || c.state === 'removing') {
    out.notes.push(`${c.name}: ${c.state}, left alone`);
    return;
  }
  if (stopped) {
    if (c.state === 'running') out.actions.push({ kind: 'stop', target: ref, timeoutSec, reason: 'service stopped' });
    return;
  }
  const orphaned = lostNamespace(input, c);
  if (c.labels[Labels.specHash] !== hash || c.state === 'dead' || orphaned !== undefined) {
    const reason =
      c.state === 'dead' ? 'dead' : c.labels[Labels.specHash] !== hash ? `spec changed (${(c.labels[Labels.specHash] ?? 'none').slice(0, 12)})` : orphaned!;
    const spec = createSpec(input.project, service, index, hash);
    out.actions.push({ kind: 'recreate', target: ref, strategy: 'stop-first', stopTimeoutSec: timeoutSec, specHash: hash, spec, reason });
    return;
  }
  if (c.state === 'created') {
    out.actions.push({ kind: 'start', target: ref, reason: 'created, not started' });
    return;
  }
  if (c.state === 'exited' && c.finishedAt !== undefined && c.finishedAt < input.updatedAt) {
    // The user asked for this state after the replica stopped (`up`, `start`): run it, whatever the restart policy.
    out.actions.push({ kind: 'start', target: ref, reason: 'exited before the desired state changed' });
    return;
  }
  const failing = c.state === 'exited' || (c.state === 'running' && c.health === 'unhealthy');
  if (!failing) return;

  const decision = decideRestart(restartRule(service), c, ctx.supervisor.replicas[replicaKey(service.name, index)], ctx.now);
  if (decision.kind !== 'restart') {
    out.notes.push(`${c.name}: ${decision.reason}`);
    return;
  }
  const { attempt, notBefore, delayMs, reason } = decision;
  if (notBefore > ctx.now) {
    out.deferred.push({ target: ref, attempt, delayMs, notBefore, reason });
    return;
  }
  const stopFirst = c.state === 'running' ? { stopTimeoutSec: timeoutSec } : {};
  out.actions.push({ kind: 'restart', target: ref, attempt, notBefore, ...stopFirst, reason });
}
