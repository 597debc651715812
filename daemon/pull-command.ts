// `cmesh pull [svc…]`: pulls service images as `docker compose pull` does (pull-policy.ts pullCommandAction), in
// parallel, without touching the running project.

import type { PullRequest, PullResult } from './api/control.ts';
import type { ContainerEngine } from './api/engine.ts';
import { CmeshError, isCmeshError } from './api/errors.ts';
import type { DaemonEvent } from './api/events.ts';
import { assertServices } from './desired-merge.ts';
import { ImagePuller } from './pull-images.ts';
import { pullCommandAction } from './pull-policy.ts';
import type { PullTimes } from './pull-state.ts';

export interface PullProjectOptions {
  engine: ContainerEngine;
  request: PullRequest;
  emit: (event: DaemonEvent) => void;
  times: PullTimes;
  signal?: AbortSignal;
  stallMs?: number;
}

export async function pullProject(options: PullProjectOptions): Promise<PullResult> {
  const { engine, request } = options;
  const project = request.project;
  assertServices(project, request.services);
  const puller = new ImagePuller({
    engine,
    project: project.name,
    emit: options.emit,
    times: options.times,
    ...(request.dockerConfig ? { auth: { configDir: request.dockerConfig } } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.stallMs === undefined ? {} : { stallMs: options.stallMs }),
  });
  const names = request.services.length > 0 ? request.services : Object.keys(project.services).sort();
  const result: PullResult = { pulled: [], skipped: {}, failed: {} };
  const jobs: Promise<void>[] = [];
  for (const name of names) {
    const svc = project.services[name];
    if (!svc) continue;
    const image = svc.image;
    if (!image) {
      result.skipped[name] = 'no image to pull (built from build:)';
      continue;
    }
    const present = svc.pullPolicy === 'missing' && (await engine.inspectImage(image)) !== undefined;
    if (pullCommandAction(svc.pullPolicy, image, present) === 'skip') {
      const why = svc.pullPolicy === 'missing' ? 'image is already present locally' : `pull_policy: ${svc.pullPolicy}`;
      result.skipped[name] = why;
      puller.skipped(name, image, why);
      continue;
    }
    jobs.push(
      puller.pull({ ...svc, image }).then(
        () => void result.pulled.push(name),
        (err: unknown) => {
          // Compose: a service that can be built does not fail `pull`; it is built on `up` instead.
          if (request.ignoreFailures || svc.build) {
            result.failed[name] = (isCmeshError(err) ? err : new CmeshError('CMESH_E_BUG', String(err))).toJSON();
            return;
          }
          throw err;
        },
      ),
    );
  }
  const outcomes = await Promise.allSettled(jobs);
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
  result.pulled.sort();
  return result;
}
