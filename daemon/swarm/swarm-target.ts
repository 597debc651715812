// The project manager's `up` on the swarm target, and the refusal when this daemon has no swarm engine. The manager
// (projects.ts) serializes, merges the desired state and hands in what it owns (store, images, event bus).

import type { ScaleRequest, UpRequest } from '../api/control.ts';
import type { DesiredProject } from '../api/desired.ts';
import { CmeshError } from '../api/errors.ts';
import type { ProjectSpec } from '../api/project.ts';
import { activeServices } from '../desired-merge.ts';
import type { ProjectMesh } from '../project-mesh.ts';
import { assertManager, assertSingleNode, type SwarmDownResult } from './deploy.ts';
import type { SwarmProjects } from './swarm-projects.ts';
import { meshView } from './translate.ts';

/** The daemon's swarm side, or CMESH_E_TARGET_UNSUPPORTED when it runs without one. */
export function requireSwarm(swarm: SwarmProjects | undefined): SwarmProjects {
  if (swarm) return swarm;
  throw new CmeshError('CMESH_E_TARGET_UNSUPPORTED', 'this daemon has no swarm engine configured', { hint: 'run the daemon against a Docker engine (cmesh daemon start)' });
}

/** What the swarm side of the manager's verbs needs from it. */
export interface SwarmVerbContext {
  swarm: SwarmProjects | undefined;
  mesh: ProjectMesh | undefined;
  /** `--wait` without a timeout waits this long. */
  waitMs: number;
  /** The answer's replica rows (the manager's `ps`). */
  ps(name: string): Promise<unknown>;
}

export interface SwarmUpContext extends SwarmVerbContext {
  /** Pulls and builds what the services need (the same as a local up). */
  images(): Promise<ProjectSpec>;
  /** Saves the desired state (store and memory). */
  commit(desired: DesiredProject): Promise<void>;
  /** Announces the up on the event stream. */
  announce(desired: DesiredProject): void;
  /** The current desired state of a project (the task observer re-reads it). */
  desired(name: string): DesiredProject | undefined;
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

/** `scale` of a swarm project whose new desired state is saved: the services are updated, the pools follow. */
export async function swarmProjectScale(ctx: SwarmVerbContext, desired: DesiredProject, request: ScaleRequest, signal?: AbortSignal): Promise<unknown> {
  const swarm = requireSwarm(ctx.swarm);
  await ctx.mesh?.publish(meshView(desired));
  const deployed = await swarm.up(desired, activeServices(desired));
  if (request.wait) await swarm.waitReady(desired, Object.keys(request.services), request.timeoutMs ?? ctx.waitMs, signal);
  return { generation: desired.generation, swarm: deployed, replicas: await ctx.ps(desired.project.name) };
}

/** `down` of a swarm project whose desired state is forgotten: the proxy's listeners close, then the services go. */
export async function swarmProjectDown(ctx: Pick<SwarmVerbContext, 'swarm' | 'mesh'>, name: string, volumes: boolean): Promise<SwarmDownResult> {
  await ctx.mesh?.unpublish(name);
  return requireSwarm(ctx.swarm).down(name, volumes);
}
