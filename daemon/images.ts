// Before reconciling `up`: build images for services with `build:` when needed and check every image is local.
// cmesh never pulls: a missing image is an error the user fixes (build it, or docker pull it themselves).

import type { UpRequest } from './api/control.ts';
import type { ContainerEngine } from './api/engine.ts';
import { CmeshError } from './api/errors.ts';
import type { DaemonEvent } from './api/events.ts';
import type { ProjectSpec, ServiceSpec } from './api/project.ts';
import { buildService, imageRepository } from '../builder/build.ts';

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
      // The builder keys its cache on the context hash, so `auto` rebuilds exactly when the sources changed, and the
      // hash tag it returns changes the service's image, which makes reconcile replace the replicas.
      const built = await buildService({
        engine,
        project: project.name,
        service: svc,
        emit,
        force: options.build === 'always',
        ...(options.signal ? { signal: options.signal } : {}),
      });
      services[name] = { ...svc, image: built.image };
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
