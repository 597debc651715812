// The project as `up` hands it to the desired state: checked against the engine (up-checks.ts), images pulled and
// built, the API socket, image EXPOSE ports and secret/config mounts filled in. The manager (projects.ts) serializes.

import type { UpRequest } from './api/control.ts';
import type { DesiredProject } from './api/desired.ts';
import type { ContainerEngine } from './api/engine.ts';
import type { DaemonEvent } from './api/events.ts';
import type { ProjectSpec } from './api/project.ts';
import { withApiSocket } from './api-socket.ts';
import { withFileGrants } from './file-grants.ts';
import { withImageExpose } from './image-expose.ts';
import { type EnsureImagesOptions, ensureImages } from './images.ts';
import type { PullTimes } from './pull-state.ts';
import type { UpChecks } from './up-checks.ts';

export interface UpPrepareContext {
  engine: ContainerEngine;
  emit(event: DaemonEvent): void;
  pullTimes: PullTimes;
  /** Where secrets and configs are written; without it, a grant is an error. */
  filesDir: string | undefined;
  checks: UpChecks;
  /**
   * Commits a partial desired state (`selected`: the services that need no image being built) and runs a pass, so
   * those start while the builds go on. Without it, everything waits for the builds.
   */
  startEarly?: (partial: DesiredProject) => Promise<void>;
}

/** Pulls and builds what `up` needs (both targets), with the project's pull state and the user's credentials. */
export function upImages(
  ctx: UpPrepareContext,
  request: UpRequest,
  services: string[],
  signal?: AbortSignal,
  onBuildsPending?: EnsureImagesOptions['onBuildsPending'],
): Promise<ProjectSpec> {
  return ensureImages({
    ...(signal ? { signal } : {}),
    ...(onBuildsPending ? { onBuildsPending } : {}),
    engine: ctx.engine,
    project: request.project,
    services,
    build: request.build,
    emit: ctx.emit,
    pullTimes: ctx.pullTimes,
    ...(request.dockerConfig ? { auth: { configDir: request.dockerConfig } } : {}),
  });
}

/**
 * The services that may start while images are being built: they need none of those images, themselves or through
 * any dependency, and every depends_on edge on the way is `service_started`. The early pass holds the loop's lock,
 * so it must stay short: a healthy or completed gate (a migration) would keep the built services waiting behind it.
 */
export function readyWhileBuilding(project: ProjectSpec, services: readonly string[], building: readonly string[]): string[] {
  const waiting = new Set(building);
  // A dependency cycle (the plan refuses it later) counts as not quick rather than recursing forever.
  const visiting = new Set<string>();
  const quick = (name: string): boolean => {
    if (waiting.has(name) || visiting.has(name)) return false;
    visiting.add(name);
    const deps = Object.entries(project.services[name]?.dependsOn ?? {}).filter(([dep]) => project.services[dep]);
    const ok = deps.every(([dep, rule]) => rule.condition === 'service_started' && quick(dep));
    visiting.delete(name);
    return ok;
  };
  return services.filter(quick).sort();
}

/**
 * A local `up`'s project; a key this engine would drop refuses the up before any pull or build. With the context's
 * `startEarly`, the services of `draft` that need no image being built start as soon as their images are local, while
 * the builds go on (awaited before this returns; its failure is the up's).
 */
export async function prepareLocalUp(
  ctx: UpPrepareContext,
  request: UpRequest,
  services: string[],
  signal?: AbortSignal,
  draft?: DesiredProject,
): Promise<ProjectSpec> {
  await ctx.checks.checkEngineGaps(request.project, services);
  await ctx.checks.warnOptionDrift(request.project);
  const complete = async (project: ProjectSpec): Promise<ProjectSpec> => {
    const withSocket = await withApiSocket(project, (await ctx.checks.engineInfo()).host, request.dockerConfig);
    return withImageExpose(ctx.engine, await withFileGrants(ctx.filesDir, withSocket));
  };
  let built = false;
  let started: Promise<void> | undefined;
  const onBuildsPending = (project: ProjectSpec, building: string[]): void => {
    const ready = readyWhileBuilding(project, services, building);
    const early = ctx.startEarly;
    if (built || !early || !draft || ready.length === 0) return;
    started = complete(project).then((p) => early({ ...draft, project: p, selected: ready }));
    started.catch(() => undefined); // awaited below; a failed build must not leave it unhandled
  };
  let project: ProjectSpec;
  try {
    project = await upImages(ctx, request, services, signal, ctx.startEarly && draft ? onBuildsPending : undefined);
  } finally {
    built = true;
  }
  await started;
  return complete(project);
}
