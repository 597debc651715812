// `cmesh restart`: restarts the chosen containers in place, one replica of a service at a time, each drained out of the
// mesh first and (when proxied) serving again before the next one goes down, so a restart never empties a pool.

import type { ServicesRequest } from './api/control.ts';
import type { ContainerEngine, ContainerInfo } from './api/engine.ts';
import { Labels } from './api/labels.ts';
import { drainedStop, type ManualStopContext, postStartHooks, replicaRef } from './project-mesh.ts';

/** How long a rolling restart waits for one proxied replica to serve again before it moves on. */
const ROLLING_RESTART_WAIT_MS = 30_000;

export interface RollingRestartContext extends ManualStopContext {
  engine: ContainerEngine;
  /** One pass of the project's loop, so the mesh observes the restarted replica (it may have a new host port). */
  reconcileNow: () => Promise<unknown>;
}

/** The engine's stop timeout for a request's `timeoutMs` (whole seconds, rounded up); undefined keeps the spec's. */
export function requestStopTimeoutSec(request: ServicesRequest): number | undefined {
  return request.timeoutMs === undefined ? undefined : Math.ceil(request.timeoutMs / 1000);
}

/** Services restart in parallel; within one service, replicas go in name order. */
export async function rollingRestart(ctx: RollingRestartContext, containers: ContainerInfo[], request: ServicesRequest): Promise<void> {
  const byService = new Map<string, ContainerInfo[]>();
  for (const c of containers) {
    const service = c.labels[Labels.service] ?? '';
    byService.set(service, [...(byService.get(service) ?? []), c]);
  }
  await Promise.all(
    [...byService.values()].map(async (list) => {
      for (const c of list.sort((a, b) => a.name.localeCompare(b.name))) {
        await drainedStop(ctx, c, request, () => ctx.engine.stopContainer(c.id, requestStopTimeoutSec(request)));
        await ctx.engine.startContainer(c.id);
        await postStartHooks(ctx, c);
        if (c.state === 'running') await untilServing(ctx, c, list.length > 1);
      }
    }),
  );
}

/**
 * After restarting one replica of a rolling restart: re-observe (the engine may give it a new host port) and wait,
 * bounded, until the pool serves it again. A replica the mesh does not route, or the last one, is not waited for.
 */
async function untilServing(ctx: RollingRestartContext, c: ContainerInfo, others: boolean): Promise<void> {
  const { mesh } = ctx;
  const ref = replicaRef(c);
  if (!others || !mesh?.replicaServing || !ref) return;
  const routed = ctx.desired()?.project.services[ref.service]?.ports.some((p) => p.published !== undefined);
  if (!routed) return;
  const deadline = Date.now() + ROLLING_RESTART_WAIT_MS;
  await ctx.reconcileNow();
  while (!mesh.replicaServing(ctx.project, ref) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}
