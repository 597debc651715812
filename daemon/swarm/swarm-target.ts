// The project manager's `up` on the swarm target, and the refusal when this daemon has no swarm engine. The manager
// (projects.ts) serializes, merges the desired state and hands in what it owns (store, images, event bus).

import type { UpRequest } from '../api/control.ts';
import type { DesiredProject } from '../api/desired.ts';
import { CmeshError } from '../api/errors.ts';
import type { ProjectSpec } from '../api/project.ts';
import type { ProjectMesh } from '../project-mesh.ts';
import { assertManager, assertSingleNode } from './deploy.ts';
import type { SwarmProjects } from './swarm-projects.ts';
import { meshView } from './translate.ts';

/** The daemon's swarm side, or CMESH_E_TARGET_UNSUPPORTED when it runs without one. */
export function requireSwarm(swarm: SwarmProjects | undefined): SwarmProjects {
  if (swarm) return swarm;
  throw new CmeshError('CMESH_E_TARGET_UNSUPPORTED', 'this daemon has no swarm engine configured', { hint: 'run the daemon against a Docker engine (cmesh daemon start)' });
}

export interface SwarmUpContext {
  swarm: SwarmProjects | undefined;
  mesh: ProjectMesh | undefined;
  /** Pulls and builds what the services need (the same as a local up). */
  images(): Promise<ProjectSpec>;
  /** Saves the desired state (store and memory). */
  commit(desired: DesiredProject): Promise<void>;
  /** Announces the up on the event stream. */
  announce(desired: DesiredProject): void;
  /** The current desired state of a project (the task observer re-reads it). */
  desired(name: string): DesiredProject | undefined;
  waitMs: number;
  ps(name: string): Promise<unknown>;
}

/**
 * `up` on the swarm target: images are built locally as for local (then deployed by ID), ports are the proxy's,
 * services/networks/secrets/configs are the swarm's. The manager check comes before any state is saved.
 */
export async function swarmProjectUp(ctx: SwarmUpContext, draft: DesiredProject, services: string[], request: UpRequest, signal?: AbortSignal): Promise<unknown> {
  const swarm = requireSwarm(ctx.swarm);
  // Refused before any build, state or port: a non-manager engine, or a swarm whose other nodes lack our images.
  assertSingleNode(await assertManager(swarm.swarmEngine), request.project, services);
  const project = await ctx.images();
  const desired = { ...draft, project };
  await ctx.mesh?.publish(meshView(desired));
  await ctx.commit(desired);
  ctx.announce(desired);
  const deployed = await swarm.up(desired, services);
  swarm.observe(project.name, () => ctx.desired(project.name));
  if (request.wait) await swarm.waitReady(desired, services, request.timeoutMs ?? ctx.waitMs, signal);
  return { generation: desired.generation, swarm: deployed, replicas: await ctx.ps(project.name) };
}
