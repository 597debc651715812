// `cmesh build [svc…]`: builds service images without touching the running project (that is `up --build`).

import type { BuildRequest, BuildResult } from './api/control.ts';
import type { ContainerEngine } from './api/engine.ts';
import type { DaemonEvent } from './api/events.ts';
import { buildServices } from '../builder/build.ts';
import { assertServices } from './desired-merge.ts';

export interface BuildProjectOptions {
  engine: ContainerEngine;
  project: string;
  request: BuildRequest;
  emit: (event: DaemonEvent) => void;
  signal?: AbortSignal;
}

/** The selected services (all when none is named) built, each answered by its image, cache hit and duration. */
export async function buildProject(options: BuildProjectOptions): Promise<Record<string, BuildResult>> {
  const { request } = options;
  assertServices(request.project, request.services);
  const all = Object.values(request.project.services);
  const services = request.services.length === 0 ? all : all.filter((s) => request.services.includes(s.name));
  const built = await buildServices({
    engine: options.engine,
    project: options.project,
    services,
    noCache: request.noCache,
    emit: options.emit,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return Object.fromEntries(Object.entries(built).map(([s, b]) => [s, { image: b.image, cached: b.cached, durationMs: b.durationMs }]));
}
