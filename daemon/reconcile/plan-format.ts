// Renders a Plan as stable, diff-friendly text: the golden files and `cmesh up --dry-run` read the same.

import { isCmeshError } from '../api/errors.ts';
import { replicaId } from '../api/labels.ts';
import { shortHash } from './hash.ts';
import type { Action, ContainerRef, GatewayReplacement, Plan } from './plan-types.ts';

const ref = (t: ContainerRef): string => `${t.name} [${t.id}]`;

/** Times relative to plan.now, so goldens do not depend on the wall clock. */
const rel = (plan: Plan, at: number): string => `${at >= plan.now ? '+' : '-'}${Math.abs(at - plan.now)}ms`;

/** A start-first gateway replacement: the new one's temporary name, its bounds, and what an earlier try left. */
function replacementText(r: GatewayReplacement | undefined): string {
  if (!r) return '';
  const left = r.adopt ? ` adopting ${ref(r.adopt)}` : r.stale ? ` replacing stale ${ref(r.stale)}` : '';
  return ` -> ${r.next}${left} serve<=${r.timeoutMs}ms drain<=${r.drainMs}ms`;
}

export function formatAction(plan: Plan, a: Action): string {
  switch (a.kind) {
    case 'ensure-network':
      return `ensure-network ${a.name}`;
    case 'ensure-volume':
      return `ensure-volume ${a.name}`;
    case 'create':
      return `create ${a.spec.name} (${replicaId(a.service, a.replica)}) hash=${shortHash(a.specHash)}${a.start ? ' +start' : ''}`;
    case 'start':
      return `start ${ref(a.target)}: ${a.reason}`;
    case 'stop':
      return `stop ${ref(a.target)} timeout=${a.timeoutSec}s: ${a.reason}`;
    case 'remove':
      return `remove ${ref(a.target)}${a.stopTimeoutSec === undefined ? '' : ` stop-first timeout=${a.stopTimeoutSec}s`}: ${a.reason}`;
    case 'recreate':
      return `recreate ${ref(a.target)} ${a.strategy} timeout=${a.stopTimeoutSec}s hash=${shortHash(a.specHash)}${replacementText(a.replacement)}: ${a.reason}`;
    case 'rollout': {
      const steps = a.steps.map((s) => `${ref(s.target)} -> ${s.next.name}${s.stale ? ` (replacing stale ${ref(s.stale)})` : ''}`);
      return `rollout ${a.service} start-first surge=${a.maxSurge} timeout=${a.timeoutMs}ms hash=${shortHash(a.specHash)}: ${a.reason}\n    ${steps.join('\n    ')}`;
    }
    case 'promote':
      return `promote ${ref(a.target)} -> ${a.name}: ${a.reason}`;
    case 'restart':
      return `restart ${ref(a.target)} attempt=${a.attempt} due=${rel(plan, a.notBefore)}${a.stopTimeoutSec === undefined ? '' : ` stop-first timeout=${a.stopTimeoutSec}s`}: ${a.reason}`;
    case 'remove-network':
      return `remove-network ${a.name}`;
    case 'remove-volume':
      return `remove-volume ${a.name}`;
    case 'connect':
      return `connect ${ref(a.target)} to ${a.network} aliases=${a.aliases.join(',') || '-'} live: ${a.reason}`;
    case 'disconnect':
      return `disconnect ${ref(a.target)} from ${a.network} live: ${a.reason}`;
  }
}

export function formatPlan(plan: Plan): string {
  const lines = [`plan ${plan.kind} ${plan.project} generation=${plan.generation}`];
  if (plan.stages.length === 0) lines.push('no actions');
  plan.stages.forEach((stage, i) => {
    const after = stage.after && ` (after ${stage.after.length === 0 ? 'none' : stage.after.map((j) => plan.stages[j]?.name ?? `?${j}`).join(', ')})`;
    lines.push(`stage ${i + 1}: ${stage.name}${after ?? ''}`);
    for (const w of stage.waits) lines.push(`  wait ${w.service} ${w.condition} replicas=${w.replicas}${w.byName ? ' +gateway' : ''} for ${w.for.join(',')}`);
    for (const a of stage.actions) lines.push(`  ${formatAction(plan, a)}`);
  });
  if (plan.deferred.length > 0) {
    lines.push('deferred:');
    for (const d of plan.deferred) {
      lines.push(`  restart ${ref(d.target)} attempt=${d.attempt} delay=${d.delayMs}ms at=${rel(plan, d.notBefore)}: ${d.reason}`);
    }
  }
  if (plan.wakeAt !== undefined) lines.push(`wake-at ${rel(plan, plan.wakeAt)}`);
  if (plan.notes.length > 0) {
    lines.push('notes:');
    for (const n of plan.notes) lines.push(`  ${n}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A planning failure rendered like a plan, so golden cases can pin rejections (cycles, unknown services) too. */
export function formatPlanError(error: unknown): string {
  if (isCmeshError(error)) return `error ${error.code}: ${error.message}${error.hint ? `\nhint: ${error.hint}` : ''}\n`;
  return `error (bug): ${String(error)}\n`;
}
