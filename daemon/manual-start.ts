// The containers the manager's own stop, start and restart act on, and `start` of what the user stopped: the same
// containers come back (like Compose), with their post_start hooks. The manager (projects.ts) serializes the verbs.

import type { ContainerEngine, ContainerInfo, ContainerState } from './api/engine.ts';
import { isOneOff, Labels, projectLabels } from './api/labels.ts';
import { type ManualStopContext, postStartHooks } from './project-mesh.ts';

/** The project's containers of `services` (all when empty), optionally only those in `states`. */
export async function manualContainers(engine: ContainerEngine, project: string, services: string[], states?: ContainerState[]): Promise<ContainerInfo[]> {
  const containers = await engine.listContainers({ labels: projectLabels(project), all: true });
  return (
    containers
      // `cmesh run` containers are not the services': stop, start and restart leave them alone, as Compose's do.
      .filter((c) => !isOneOff(c))
      .filter((c) => services.length === 0 || services.includes(c.labels[Labels.service] ?? ''))
      .filter((c) => !states || states.includes(c.state))
  );
}

/** What the user stopped comes back as the same containers (like Compose), whatever their restart policy says. */
export async function startStopped(ctx: ManualStopContext & { engine: ContainerEngine }, services: string[]): Promise<void> {
  const stopped = await manualContainers(ctx.engine, ctx.project, services, ['exited', 'created']);
  await Promise.all(
    stopped.map(async (c) => {
      await ctx.engine.startContainer(c.id);
      await postStartHooks(ctx, c);
    }),
  );
}
