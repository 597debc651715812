// Watch `sync`: copies changed files into every running replica of a service, then (sync+restart) restarts them one at a
// time, each drained out of the mesh first.

import type { SyncExec, SyncRequest, SyncResult } from './api/control.ts';
import type { ContainerEngine, ContainerInfo } from './api/engine.ts';
import { CmeshError } from './api/errors.ts';
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
  const executed = request.exec ? await execEverywhere(engine, replicas, request.service, request.exec) : undefined;
  return { containers: replicas.length, ...result, restarted, ...(executed === undefined ? {} : { executed }), durationMs: Date.now() - started };
}

/**
 * sync+exec: the rule's command in every replica, after the files are in. A non-zero exit is CMESH_E_HOOK_FAILED
 * naming the replica (the CLI prints it and the watch goes on); the other replicas still get the command.
 */
async function execEverywhere(engine: ContainerEngine, replicas: ContainerInfo[], service: string, exec: SyncExec): Promise<number> {
  const { command, ...options } = exec;
  const failures: string[] = [];
  for (const c of replicas) {
    const r = await engine.exec(c.id, command, options);
    if (r.exitCode !== 0) failures.push(`${c.name} exited with code ${r.exitCode}${r.output ? `: ${r.output.trimEnd().split('\n').slice(-3).join(' | ')}` : ''}`);
  }
  if (failures.length > 0) {
    throw new CmeshError('CMESH_E_HOOK_FAILED', `sync+exec of ${service} (${command.join(' ').slice(0, 200)}): ${failures.join('; ')}`, {
      hint: 'the files were synced; fix the command in develop.watch `exec`, then save again',
      details: { service, failures },
    });
  }
  return replicas.length;
}
