// The project as `up` hands it to the desired state: checked against the engine (up-checks.ts), images pulled and
// built, the API socket, image EXPOSE ports and secret/config mounts filled in. The manager (projects.ts) serializes.

import type { UpRequest } from './api/control.ts';
import type { ContainerEngine } from './api/engine.ts';
import type { DaemonEvent } from './api/events.ts';
import type { ProjectSpec } from './api/project.ts';
import { withApiSocket } from './api-socket.ts';
import { withFileGrants } from './file-grants.ts';
import { withImageExpose } from './image-expose.ts';
import { ensureImages } from './images.ts';
import type { PullTimes } from './pull-state.ts';
import type { UpChecks } from './up-checks.ts';

export interface UpPrepareContext {
  engine: ContainerEngine;
  emit(event: DaemonEvent): void;
  pullTimes: PullTimes;
  /** Where secrets and configs are written; without it, a grant is an error. */
  filesDir: string | undefined;
  checks: UpChecks;
}

/** Pulls and builds what `up` needs (both targets), with the project's pull state and the user's credentials. */
export function upImages(ctx: UpPrepareContext, request: UpRequest, services: string[], signal?: AbortSignal): Promise<ProjectSpec> {
  return ensureImages({
    ...(signal ? { signal } : {}),
    engine: ctx.engine,
    project: request.project,
    services,
    build: request.build,
    emit: ctx.emit,
    pullTimes: ctx.pullTimes,
    ...(request.dockerConfig ? { auth: { configDir: request.dockerConfig } } : {}),
  });
}

/** A local `up`'s project; a key this engine would drop refuses the up before any pull or build. */
export async function prepareLocalUp(ctx: UpPrepareContext, request: UpRequest, services: string[], signal?: AbortSignal): Promise<ProjectSpec> {
  await ctx.checks.checkEngineGaps(request.project, services);
  await ctx.checks.warnOptionDrift(request.project);
  const built = await upImages(ctx, request, services, signal);
  const withSocket = await withApiSocket(built, (await ctx.checks.engineInfo()).host, request.dockerConfig);
  return withImageExpose(ctx.engine, await withFileGrants(ctx.filesDir, withSocket));
}
