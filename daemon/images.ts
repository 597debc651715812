// Before reconciling `up`: build images for services with `build:` when needed and check every image is local.
// cmesh never pulls: a missing image is an error the user fixes (build it, or docker pull it themselves).

import type { UpRequest } from './api/control.ts';
import type { ContainerEngine } from './api/engine.ts';
import { CmeshError } from './api/errors.ts';
import type { DaemonEvent } from './api/events.ts';
import { Labels } from './api/labels.ts';
import type { ProjectSpec, ServiceSpec } from './api/project.ts';
import { packContext } from './build-context.ts';

/** Tag a built service gets: its `image:` when given (Compose does the same), else `<project>-<service>`. */
export function builtImageTag(project: string, service: ServiceSpec): string {
  return service.image ?? `${project}-${service.name}`;
}

export interface EnsureImagesOptions {
  engine: ContainerEngine;
  project: ProjectSpec;
  /** Services that will run; images of the others are not needed now. */
  services: string[];
  build: UpRequest['build'];
  emit: (event: DaemonEvent) => void;
  signal?: AbortSignal;
}

/** Returns the project with every built service's `image` set to its tag. */
export async function ensureImages(options: EnsureImagesOptions): Promise<ProjectSpec> {
  const { engine, project, emit } = options;
  const services: Record<string, ServiceSpec> = { ...project.services };
  for (const name of options.services) {
    const svc = services[name];
    if (!svc) continue;
    const base = { time: Date.now(), project: project.name, service: name };
    if (svc.build) {
      const tag = builtImageTag(project.name, svc);
      services[name] = { ...svc, image: tag };
      if (options.build === 'never') {
        if (!(await engine.inspectImage(tag))) {
          throw new CmeshError('CMESH_E_IMAGE_MISSING', `image ${tag} for service "${name}" is not built`, {
            hint: 'run `cmesh up --build` (or drop --no-build)',
            details: { service: name, image: tag },
          });
        }
        continue;
      }
      if (options.build === 'auto' && (await engine.inspectImage(tag))) continue;
      emit({ ...base, type: 'build', phase: 'start', text: `building ${tag}` });
      try {
        const context = await packContext(svc.build.context, svc.build.dockerfile);
        const progress = engine.buildImage({
          context,
          dockerfile: svc.build.dockerfile,
          tags: [tag],
          args: svc.build.args,
          ...(svc.build.target ? { target: svc.build.target } : {}),
          // Project labels let `down --rmi`-like cleanups and the test reaper find what we built.
          labels: { ...svc.build.labels, [Labels.managed]: 'true', [Labels.project]: project.name },
          ...(svc.build.noCache ? { noCache: true } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        });
        let failure: string | undefined;
        for await (const p of progress) {
          if (p.kind === 'step') emit({ ...base, time: Date.now(), type: 'build', phase: 'step', step: p.step, total: p.total, text: p.text });
          // The engine port throws its own, richer error (failing step, output) right after this line.
          else if (p.kind === 'error') failure = p.message;
        }
        // Never trust a stream that ended "fine" after an error line.
        if (failure !== undefined) throw new CmeshError('CMESH_E_BUILD_FAILED', `building ${tag}: ${failure}`);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        emit({ ...base, time: Date.now(), type: 'build', phase: 'failed', text: message });
        throw err;
      }
      emit({ ...base, time: Date.now(), type: 'build', phase: 'done', text: `built ${tag}` });
      continue;
    }
    if (!svc.image) {
      throw new CmeshError('CMESH_E_CONFIG_INVALID', `service "${name}" has neither image nor build`);
    }
    if (!(await engine.inspectImage(svc.image))) {
      throw new CmeshError('CMESH_E_IMAGE_MISSING', `image ${svc.image} for service "${name}" is not present locally`, {
        hint: `cmesh never pulls: run \`docker pull ${svc.image}\` or add a build: section`,
        details: { service: name, image: svc.image },
      });
    }
  }
  return { ...project, services };
}
