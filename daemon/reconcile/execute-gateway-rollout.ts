// Replaces a running east-west gateway start-first: the new container under `<name>-next` beside the old one (Docker
// DNS answers the names with both), gated on its `serving` report; then the old one drains (`Connection: close`, idle
// keep-alive connections closed), closes its listeners (a caller that got both addresses from DNS goes on to the new
// one; in-flight work finishes), leaves its networks, goes, and the new one takes the canonical name. A new gateway
// that never serves is removed: the old one serves on.

import { parseGatewayServices, GATEWAY_SERVICES_LABEL } from '../api/east-west-placement.ts';
import { CmeshError } from '../api/errors.ts';
import { isGateway } from '../api/labels.ts';
import { type ActionContext, emitContainer } from './action-context.ts';
import { createNext, emitRollout, type RolloutPhase } from './execute-rollout-next.ts';
import { remove } from './execute-stop.ts';
import { shortHash } from './hash.ts';
import { failedReplacementKey } from './plan-gateway-replace.ts';
import type { Action, ContainerRef } from './plan-types.ts';
import { lastLogLines, sleep } from './wait.ts';

type Recreate = Extract<Action, { kind: 'recreate' }>;

/** Without the hub (no mesh): the new gateway counts once it has run this long. */
const RUNNING_SETTLE_MS = 1_000;

/** The hostname Docker gives a container (its short id): how the gateway names itself in its reports. */
const hostOf = (ref: ContainerRef): string => ref.id.slice(0, 12);

const emitGatewayRollout = (ctx: ActionContext, phase: RolloutPhase, text: string, replica: number, logs?: string[]): void =>
  emitRollout(ctx, 'cmesh:gateway', phase, text, logs ? { replica, logs } : { replica });

/** Force-removes a gateway container that never took the names over (or a left-over one): nothing to drain. */
async function discard(ctx: ActionContext, ref: ContainerRef): Promise<void> {
  ctx.gatewayRollout?.forget(hostOf(ref));
  await ctx.engine.removeContainer(ref.id, { force: true });
  emitContainer(ctx, 'removed', ref);
}

/** Whether the new gateway serves its services (the hub's word), or, without a hub, still runs after a settle. */
async function serves(ctx: ActionContext, a: Recreate, next: ContainerRef, timeoutMs: number): Promise<boolean> {
  const services = [...(parseGatewayServices(a.spec.labels[GATEWAY_SERVICES_LABEL])?.keys() ?? [])];
  if (ctx.gatewayRollout) return ctx.gatewayRollout.waitServing(hostOf(next), services, timeoutMs);
  await sleep(RUNNING_SETTLE_MS);
  return (await ctx.engine.inspectContainer(next.id))?.state === 'running';
}

/**
 * The old gateway (drained, its listeners closed) out of DNS first (it leaves each network: the engine drops its names
 * there before its address), then removed. What still runs on it past the drain bound is cut, as a stop would cut it.
 */
async function retire(ctx: ActionContext, old: ContainerRef, stopTimeoutSec: number): Promise<void> {
  const info = await ctx.engine.inspectContainer(old.id);
  await Promise.all((info?.networks ?? []).map((n) => ctx.engine.disconnectNetwork(old.id, n.name).catch(() => undefined)));
  await remove(ctx, old, info?.state === 'running' ? stopTimeoutSec : undefined, true);
  ctx.gatewayRollout?.forget(hostOf(old));
}

/**
 * `start`: execute-actions.ts's checked start (passed in: that module dispatches here). A failure before the old
 * gateway is touched removes the new one and leaves the old one serving; not serving in time is remembered for the
 * desired generation (the plan says so instead of trying again each pass).
 */
export async function replaceGateway(ctx: ActionContext, a: Recreate, start: (ctx: ActionContext, ref: ContainerRef) => Promise<void>): Promise<void> {
  const r = a.replacement!;
  const index = a.target.replica;
  emitGatewayRollout(ctx, 'start', `${a.target.name} to ${shortHash(a.specHash)}, start-first: ${a.reason}`, index);
  if (r.stale) await discard(ctx, r.stale);
  let next = r.adopt;
  let served = false;
  try {
    if (!next) {
      const ref = (id: string): ContainerRef => ({ id, name: r.next, service: a.target.service, replica: a.target.replica });
      next = await createNext(ctx, { ...a.spec, name: r.next }, ref, isGateway, (stale) => discard(ctx, stale));
      emitContainer(ctx, 'created', next);
      await start(ctx, next);
    }
    served = await serves(ctx, a, next, r.timeoutMs);
  } catch (error) {
    if (next) await discard(ctx, next).catch(() => undefined);
    throw error;
  }
  if (!served) {
    const logs = await lastLogLines(ctx.engine, next.id, 20).catch(() => []);
    await discard(ctx, next).catch(() => undefined);
    const why = `${next.name} did not serve its names within ${r.timeoutMs / 1000} s`;
    emitGatewayRollout(ctx, 'rolled-back', `${why}; ${a.target.name} serves on`, index, logs);
    ctx.onRolledBack?.(failedReplacementKey(index), a.specHash);
    throw new CmeshError('CMESH_E_ROLLOUT_FAILED', `replacing ${a.target.name} was given up: ${why}`, {
      hint: `the old gateway serves on; its log says why: docker logs ${a.target.name} (the new one's last lines are below)`,
      details: { service: a.target.service, replica: index, specHash: a.specHash, container: next.id, logs },
    });
  }
  emitGatewayRollout(ctx, 'progress', `${next.name} serves, draining ${a.target.name}`, index);
  const old = hostOf(a.target);
  await ctx.gatewayRollout?.drain(old, r.drainMs);
  await ctx.gatewayRollout?.retire(old, r.drainMs);
  await retire(ctx, a.target, a.stopTimeoutSec);
  await ctx.engine.renameContainer(next.id, a.spec.name);
  emitContainer(ctx, 'adopted', { ...next, name: a.spec.name });
  emitGatewayRollout(ctx, 'done', `${a.spec.name} now on ${shortHash(a.specHash)}`, index);
}
