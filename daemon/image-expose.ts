// East-west meshes the ports an image EXPOSEs: known only once the image is local, so `up` reads them from the engine
// after pull/build and records them in the desired state, where every reader of the east-west plan sees the same set.

import type { ContainerEngine } from './api/engine.ts';
import type { ProjectSpec, ServiceSpec } from './api/project.ts';
import { imageRef } from './reconcile/container-spec.ts';

/**
 * The project with each east-west candidate's `imageExpose` set from its image's TCP ExposedPorts. Services opted
 * out, projects without east-west, and images that are not local are left as they are (undefined: not read).
 */
export async function withImageExpose(engine: ContainerEngine, project: ProjectSpec): Promise<ProjectSpec> {
  if (project.eastWest !== true) return project;
  const entries = await Promise.all(
    Object.entries(project.services).map(async ([name, service]): Promise<[string, ServiceSpec]> => {
      if (service.mesh.eastWest === false) return [name, service];
      const image = await engine.inspectImage(imageRef(project, service));
      if (!image) return [name, service];
      const tcp = image.exposedPorts.filter((p) => p.protocol === 'tcp').map((p) => p.port);
      return [name, { ...service, imageExpose: [...new Set(tcp)].sort((a, b) => a - b) }];
    }),
  );
  return { ...project, services: Object.fromEntries(entries) };
}
