// One plan action against the engine port: create/adopt, start (with exit detection), stop, remove, recreate, restart.

import { GATEWAY_SERVICE } from '../api/east-west.ts';
import type { ContainerInfo } from '../api/engine.ts';
import { CmeshError, isCmeshError } from '../api/errors.ts';
import { isGateway, Labels } from '../api/labels.ts';
import { type ActionContext, emitContainer } from './action-context.ts';
import { replaceGateway } from './execute-gateway-rollout.ts';
import { promote, runRollout } from './execute-rollout.ts';
import { runPostStart } from './lifecycle-hooks.ts';
import { remove, stop } from './execute-stop.ts';
import type { Action, ContainerRef } from './plan-types.ts';
import { lastLogLines } from './wait.ts';

/** Same project, service and replica labels: a container we made earlier (a crashed pass, a lost response). */
function isOurReplica(info: ContainerInfo, project: string, service: string, replica: number): boolean {
  if (service === GATEWAY_SERVICE) return info.labels[Labels.managed] === 'true' && info.labels[Labels.project] === project && isGateway(info);
  return (
    info.labels[Labels.managed] === 'true' &&
    info.labels[Labels.project] === project &&
    info.labels[Labels.service] === service &&
    info.labels[Labels.replica] === String(replica)
  );
}

async function createOrAdopt(ctx: ActionContext, a: Extract<Action, { kind: 'create' | 'recreate' }>): Promise<ContainerRef> {
  const service = a.kind === 'create' ? a.service : a.target.service;
  const replica = a.kind === 'create' ? a.replica : a.target.replica;
  try {
    const { id } = await ctx.engine.createContainer(a.spec);
    const ref = { id, name: a.spec.name, service, replica };
    emitContainer(ctx, 'created', ref);
    ctx.onReplaced?.(service, replica);
    return ref;
  } catch (error) {
    if (!isCmeshError(error) || error.code !== 'CMESH_E_NAME_CONFLICT') throw error;
    const existingId = typeof error.details['existingId'] === 'string' ? error.details['existingId'] : a.spec.name;
    const existing = await ctx.engine.inspectContainer(existingId);
    if (!existing || !isOurReplica(existing, ctx.project, service, replica)) {
      throw new CmeshError('CMESH_E_NAME_CONFLICT', `container name ${a.spec.name} is taken by a container cmesh does not own`, {
        hint: `remove it (docker rm -f ${a.spec.name}) or rename the project`,
        details: { name: a.spec.name, existingId: existing?.id ?? existingId },
        cause: error,
      });
    }
    // Adopt, never duplicate: if its spec is stale, the next pass sees the hash and recreates it properly.
    const ref = { id: existing.id, name: existing.name, service, replica };
    emitContainer(ctx, 'adopted', ref);
    return ref;
  }
}

/** Starts and checks the container did not die on the spot; a crash carries its last log lines. */
export async function startChecked(ctx: ActionContext, ref: ContainerRef): Promise<void> {
  await ctx.engine.startContainer(ref.id);
  const info = await ctx.engine.inspectContainer(ref.id);
  if (info && (info.state === 'exited' || info.state === 'dead') && info.exitCode !== 0) {
    const logs = await lastLogLines(ctx.engine, ref.id, 20);
    emitContainer(ctx, 'died', ref, info.exitCode);
    throw new CmeshError('CMESH_E_CONTAINER_EXITED', `${ref.name} exited with code ${info.exitCode ?? '?'} right after start`, {
      hint: logs.length > 0 ? `its last log lines are below; more with: cmesh logs ${ref.service}` : `see: docker logs ${ref.name}`,
      details: { service: ref.service, replica: ref.replica, container: ref.id, exitCode: info.exitCode, logs },
    });
  }
  // Before 'started': depends_on gates and the mesh see the replica only once its post_start succeeded.
  await runPostStart(ctx, ref, ctx.hooks?.[ref.service]?.postStart);
  emitContainer(ctx, 'started', ref);
}

export async function runAction(ctx: ActionContext, a: Action): Promise<void> {
  switch (a.kind) {
    case 'ensure-network':
      await ctx.engine.createNetwork(a.spec);
      return;
    case 'ensure-volume':
      await ctx.engine.createVolume(a.spec);
      return;
    case 'create': {
      const ref = await createOrAdopt(ctx, a);
      if (a.start) await startChecked(ctx, ref);
      return;
    }
    case 'start':
      await startChecked(ctx, a.target);
      return;
    case 'stop':
      await stop(ctx, a.target, a.timeoutSec);
      return;
    case 'remove':
      await remove(ctx, a.target, a.stopTimeoutSec);
      return;
    case 'recreate': {
      // start-first: a running gateway (replicas roll with `rollout`); stop-first: everything else.
      if (a.strategy === 'start-first' && a.replacement) return replaceGateway(ctx, a, startChecked);
      await remove(ctx, a.target, a.stopTimeoutSec);
      await startChecked(ctx, await createOrAdopt(ctx, a));
      return;
    }
    case 'rollout':
      await runRollout(ctx, a);
      return;
    case 'promote':
      await promote(ctx, a);
      return;
    case 'restart':
      emitContainer(ctx, 'restarting', a.target);
      if (a.stopTimeoutSec !== undefined) await stop(ctx, a.target, a.stopTimeoutSec);
      // Count before starting: a start that fails is still an attempt, or a broken replica would never back off.
      ctx.onRestart?.(a.target.service, a.target.replica);
      try {
        await startChecked(ctx, a.target);
      } catch (error) {
        // A crash-looping replica (or one whose post_start keeps failing) is the supervisor's business (next pass,
        // longer backoff), not a failed pass.
        if (!isCmeshError(error) || (error.code !== 'CMESH_E_CONTAINER_EXITED' && error.code !== 'CMESH_E_HOOK_FAILED')) throw error;
      }
      return;
    case 'remove-network':
      await ctx.engine.removeNetwork(a.name);
      return;
    case 'remove-volume':
      await ctx.engine.removeVolume(a.name);
      return;
    case 'connect':
      await ctx.engine.connectNetwork(a.target.id, a.network, a.aliases);
      return;
    case 'disconnect':
      await ctx.engine.disconnectNetwork(a.target.id, a.network);
      return;
  }
}
