// Before reconciling `up`: pull and build service images as Compose would (pull_policy), concurrently, and check every
// image the containers need is local. Decisions are pure (pull-policy.ts); pulls go through pull-images.ts.

import type { UpRequest } from './api/control.ts';
import type { ContainerEngine } from './api/engine.ts';
import { CmeshError, isCmeshError } from './api/errors.ts';
import type { DaemonEvent } from './api/events.ts';
import type { ProjectSpec, ServiceSpec } from './api/project.ts';
import { buildService, imageRepository } from '../builder/build.ts';
import { ImagePuller } from './pull-images.ts';
import { buildServiceAction, imageServiceAction, pullIntervalMs } from './pull-policy.ts';
import { MemoryPullTimes, type PullTimes } from './pull-state.ts';
import type { AuthLookupOptions } from './registry-auth.ts';

export interface EnsureImagesOptions {
  engine: ContainerEngine;
  project: ProjectSpec;
  /** Services that will run; images of the others are not needed now. */
  services: string[];
  build: UpRequest['build'];
  emit: (event: DaemonEvent) => void;
  signal?: AbortSignal;
  /** When cmesh last pulled each image (periodic policies); default in memory. */
  pullTimes?: PullTimes;
  /** Where the user's Docker config is (credentials). */
  auth?: AuthLookupOptions;
  /** Bound on a silent pull (tests shorten it). */
  pullStallMs?: number;
  now?: () => number;
  /**
   * Called once when every image but those still being built is local (pulls done, builds going on), with the project
   * as it stands and the services whose images are being built: the services that need none of them can start now.
   */
  onBuildsPending?: (project: ProjectSpec, building: string[]) => void;
}

type Task = { service: string; run: () => Promise<void>; builds?: boolean };

/** Returns the project with every built service's `image` set to its tag. */
export async function ensureImages(options: EnsureImagesOptions): Promise<ProjectSpec> {
  const { engine, project, emit } = options;
  const services: Record<string, ServiceSpec> = { ...project.services };
  const times = options.pullTimes ?? new MemoryPullTimes();
  const now = options.now ?? Date.now;
  const puller = new ImagePuller({
    engine,
    project: project.name,
    emit,
    times,
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.pullStallMs === undefined ? {} : { stallMs: options.pullStallMs }),
    ...(options.signal ? { signal: options.signal } : {}),
    now,
  });
  const builds: Task[] = [];
  const pulls: Task[] = [];
  const build = (svc: ServiceSpec, force: boolean) => async () => {
    const built = await buildService({
      engine,
      project: project.name,
      service: svc,
      emit,
      force,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    services[svc.name] = { ...svc, image: built.image };
  };

  // Decide everything first: a refusal (never + missing) fails the up before any pull or build starts.
  for (const name of options.services) {
    const svc = services[name];
    if (!svc) continue;
    if (svc.build) {
      if (options.build === 'never') {
        const latest = `${imageRepository(project.name, name)}:latest`;
        if (!(await engine.inspectImage(latest))) {
          throw new CmeshError('CMESH_E_IMAGE_MISSING', `image ${latest} for service "${name}" is not built`, {
            hint: 'run `cmesh up --build` (or drop --no-build)',
            details: { service: name, image: latest },
          });
        }
        services[name] = { ...svc, image: latest };
        continue;
      }
      const lastPulledAt = svc.image && pullIntervalMs(svc.pullPolicy) !== undefined ? await times.get(svc.image) : undefined;
      const action = buildServiceAction(svc.pullPolicy, svc.image !== undefined, {
        present: false,
        now: now(),
        ...(lastPulledAt === undefined ? {} : { lastPulledAt }),
      });
      // The builder keys its cache on the context hash, so a plain build rebuilds exactly when the sources changed, and
      // the hash tag it returns changes the service's image, which makes reconcile replace the replicas.
      const force = options.build === 'always' || action === 'force-build';
      if (action === 'pull-or-build' && svc.image) {
        const image = svc.image;
        // Compose: a service that can be built ignores its pull failure and builds instead.
        pulls.push({
          service: name,
          builds: true,
          run: () => puller.pull({ ...svc, image }).catch(() => build(svc, force)()),
        });
      } else builds.push({ service: name, run: build(svc, force) });
      continue;
    }
    if (!svc.image) {
      throw new CmeshError('CMESH_E_CONFIG_INVALID', `service "${name}" has neither image nor build`);
    }
    const image = svc.image;
    const present = (await engine.inspectImage(image)) !== undefined;
    const lastPulledAt = pullIntervalMs(svc.pullPolicy) !== undefined ? await times.get(image) : undefined;
    const action = imageServiceAction(svc.pullPolicy, { present, now: now(), ...(lastPulledAt === undefined ? {} : { lastPulledAt }) });
    if (action === 'refuse') {
      throw new CmeshError('CMESH_E_IMAGE_MISSING', `image ${image} for service "${name}" is not present locally`, {
        hint:
          svc.pullPolicy === 'never'
            ? `the service has \`pull_policy: never\`: run \`cmesh pull ${name}\` or \`docker pull ${image}\`, or change the policy`
            : 'pull_policy `build` needs a `build:` section to build from',
        details: { service: name, image, pullPolicy: svc.pullPolicy },
      });
    }
    if (action === 'pull') pulls.push({ service: name, run: () => puller.pull({ ...svc, image }).catch((err) => missingIfUnreachable(err, present)) });
  }

  // Pulls run in parallel (bounded in the puller) beside one chain of builds, as Compose overlaps them.
  const buildChain: Task = {
    service: builds[0]?.service ?? '',
    run: async () => {
      for (const b of builds) await b.run();
    },
  };
  const running = [...pulls, ...(builds.length > 0 ? [buildChain] : [])].map((t) => t.run());
  const building = [...builds, ...pulls.filter((t) => t.builds)].map((t) => t.service);
  if (options.onBuildsPending && building.length > 0) {
    const onBuildsPending = options.onBuildsPending;
    const plainPulls = running.filter((_, i) => i < pulls.length && !pulls[i]!.builds);
    // A failed pull fails the up below; only a clean set of images is announced.
    void Promise.all(plainPulls).then(
      () => onBuildsPending({ ...project, services: { ...services } }, building),
      () => undefined,
    );
  }
  const outcomes = await Promise.allSettled(running);
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
  return { ...project, services };
}

/**
 * No registry reachable and no local copy: the same CMESH_E_IMAGE_MISSING (exit 7) as before cmesh pulled, now with
 * the engine's reason. With a local copy (`always`, a due periodic policy) the pull failure itself is the answer.
 */
function missingIfUnreachable(err: unknown, present: boolean): never {
  if (!present && isCmeshError(err) && err.code === 'CMESH_E_PULL_FAILED' && err.details.reason === 'unreachable') {
    const image = String(err.details.image);
    const service = String(err.details.service);
    const reason = String(err.details.engineMessage);
    throw new CmeshError('CMESH_E_IMAGE_MISSING', `image ${image} for service "${service}" is not present locally and its registry could not be reached: ${reason}`, {
      hint: 'check the network and the registry address, or load the image (docker load), or add a build: section',
      details: err.details,
      cause: err,
    });
  }
  throw err;
}
