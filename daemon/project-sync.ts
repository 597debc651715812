// Watch `sync`: copies changed files into every running replica of a service, then (sync+restart) restarts them one at a
// time, each drained out of the mesh first.

import type { SyncRequest, SyncResult } from './api/control.ts';
import type { ContainerEngine } from './api/engine.ts';
import { isPendingNext, Labels, projectLabels } from './api/labels.ts';
import { syncFiles } from '../builder/sync.ts';
import { drainedStop, type ManualStopContext, postStartHooks } from './project-mesh.ts';

export interface SyncContext extends ManualStopContext {
  engine: ContainerEngine;
  /** Wakes the project's loop: the restarts happened behind its back. */
  wake: (reason: string) => void;
}

export async function syncReplicas(ctx: SyncContext, request: SyncRequest): Promise<SyncResult> {
  const started = Date.now();
  const { engine } = ctx;
  const labels = { ...projectLabels(ctx.project), [Labels.service]: request.service };
  const replicas = (await engine.listContainers({ labels, all: false })).filter((c) => c.state === 'running' && !isPendingNext(c));
  const result = await syncFiles({ engine, containerIds: replicas.map((c) => c.id), files: request.files });
  let restarted = 0;
  if (request.restart) {
    for (const c of replicas) {
      await drainedStop(ctx, c, { services: [request.service] }, () => engine.stopContainer(c.id));
      await engine.startContainer(c.id);
      await postStartHooks(ctx, c);
      restarted++;
    }
    ctx.wake('sync+restart');
  }
  return { containers: replicas.length, ...result, restarted, durationMs: Date.now() - started };
}
