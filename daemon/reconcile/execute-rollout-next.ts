// What both start-first replacements share (a service's replicas, execute-rollout.ts; a gateway,
// execute-gateway-rollout.ts): their `rollout` events, and creating the new container under its temporary name.

import type { ContainerCreateSpec, ContainerInfo } from '../api/engine.ts';
import { isCmeshError } from '../api/errors.ts';
import { Labels } from '../api/labels.ts';
import type { ActionContext } from './action-context.ts';
import type { ContainerRef } from './plan-types.ts';

export type RolloutPhase = 'start' | 'progress' | 'done' | 'rolled-back';

export function emitRollout(ctx: ActionContext, service: string, phase: RolloutPhase, text: string, extra: { replica?: number; logs?: string[] } = {}): void {
  ctx.emit({ type: 'rollout', time: ctx.now(), project: ctx.project, service, phase, text, ...extra });
}

/**
 * Creates the new container under its temporary name. A same-named one that is `ours` (of this project, of the same
 * kind: a lost create response, a daemon that died after creating it) goes through `discard` and is created again;
 * any other name conflict is thrown as it came.
 */
export async function createNext(
  ctx: ActionContext,
  spec: ContainerCreateSpec,
  ref: (id: string) => ContainerRef,
  ours: (existing: ContainerInfo) => boolean,
  discard: (ref: ContainerRef) => Promise<void>,
): Promise<ContainerRef> {
  try {
    return ref((await ctx.engine.createContainer(spec)).id);
  } catch (error) {
    if (!isCmeshError(error) || error.code !== 'CMESH_E_NAME_CONFLICT') throw error;
    const existing = await ctx.engine.inspectContainer(String(error.details['existingId'] ?? spec.name));
    if (!existing || !ours(existing) || existing.labels[Labels.project] !== ctx.project) throw error;
    await discard(ref(existing.id));
    return ref((await ctx.engine.createContainer(spec)).id);
  }
}
