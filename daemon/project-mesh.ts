// The mesh as the project manager sees it: the ProjectMesh port, the hooks that tie a project's reconcile loop to it
// (observations, drains around the loop's stops, start-first rollout wiring), and the drain around the manager's own stops.

import type { ServicesRequest } from './api/control.ts';
import type { DesiredProject } from './api/desired.ts';
import type { ContainerEngine, ContainerInfo, Endpoint } from './api/engine.ts';
import type { DaemonEvent } from './api/events.ts';
import type { PublishedMapping } from './bound-ports.ts';
import { Labels } from './api/labels.ts';
import { type HookContext, runPostStart, runPreStop } from './reconcile/lifecycle-hooks.ts';
import type { ReconcilerOptions } from './reconcile/loop.ts';
import type { GatewayContext } from './reconcile/plan-gateway.ts';
import type { ContainerRef } from './reconcile/plan-types.ts';

/** What the manager needs from the mesh (daemon/mesh-wiring.ts): published ports, the service table, drains. */
export interface ProjectMesh {
  /** Binds the published ports before anything is created; throws CMESH_E_PORT_TAKEN. */
  publish(desired: DesiredProject): Promise<void>;
  /** Same for a project loaded at daemon start; failures are reported as events, never thrown. */
  adopt(desired: DesiredProject): Promise<void>;
  unpublish(project: string): Promise<void>;
  observed(desired: DesiredProject, containers: ContainerInfo[]): void;
  beforeStop(project: string, ref: ContainerRef, graceMs: number): Promise<void>;
  afterStop(project: string, ref: ContainerRef, removed: boolean): void;
  /** The engine's `die` for one of the project's containers: the mesh stops routing to it at once. */
  runEnded?(project: string, container: string): void;
  /** The engine's `pause` (true) or `unpause` (false) of one: paused, no routing to it from now; it rises after. */
  runPaused?(project: string, container: string, paused: boolean): void;
  /**
   * The engine's network connect/disconnect of a container (any: those events carry no labels). Returns the project
   * of a container the mesh observed (its loop is to be woken), else undefined; a replica reached at its own address
   * on that network is out of rotation at once on a disconnect, and rises again after the connect.
   */
  linkChanged?(container: string, network: string, up: boolean): string | undefined;
  /** Start-first rollouts (daemon/mesh-rollout.ts); without them a new replica is judged by the engine alone. */
  rolloutWaitHealthy?(project: string, next: ContainerRef, endpoints: Endpoint[], timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  rolloutDiscard?(project: string, next: ContainerRef): void;
  rolloutPromote?(project: string, next: ContainerRef): void;
  /** Whether the pool serves this container again; `restart` waits for it before taking the next replica down. */
  replicaServing?(project: string, ref: ContainerRef): boolean;
  /** `cmesh port`: the host port a published mapping is bound on (a host range's free port); absent: `published`. */
  publishedPort?(project: string, m: PublishedMapping): number;
  /** East-west: the gateway's image and control socket directory for the planner (undefined: no gateway now). */
  gatewayContext?(desired: DesiredProject): Promise<GatewayContext | undefined>;
  /** East-west: the daemon's shared gateway as the engine has it now (undefined: there is none). */
  sharedGateway?(): Promise<ContainerInfo | undefined>;
  /** East-west: resolves once the gateways answer for these services by name (at once for services not meshed). */
  answeredByName?(project: string, services: string[], options: { timeoutMs: number; signal?: AbortSignal }): Promise<void>;
}

export type LoopMeshHooks = Pick<ReconcilerOptions, 'onObserved' | 'stopHooks' | 'rolloutHooks' | 'gatewayContext' | 'sharedGateway' | 'nameReady'>;

/** The reconcile loop's mesh hooks for one project (none without a mesh). */
export function loopMeshHooks(mesh: ProjectMesh | undefined, name: string, desired: () => DesiredProject | undefined): LoopMeshHooks {
  if (!mesh) return {};
  return {
    onObserved: (containers) => {
      const d = desired();
      if (d) mesh.observed(d, containers);
    },
    stopHooks: {
      beforeStop: (ref, graceMs) => mesh.beforeStop(name, ref, graceMs),
      afterStop: (ref, removed) => mesh.afterStop(name, ref, removed),
    },
    ...rolloutHooks(mesh, name),
    ...(mesh.gatewayContext ? { gatewayContext: (d: DesiredProject) => mesh.gatewayContext!(d) } : {}),
    ...(mesh.sharedGateway ? { sharedGateway: () => mesh.sharedGateway!() } : {}),
    ...(mesh.answeredByName ? { nameReady: (services, options) => mesh.answeredByName!(name, services, options) } : {}),
  };
}

/** Start-first rollouts gate on the mesh's health checks and hand the pool over; only when the mesh implements them. */
function rolloutHooks(mesh: ProjectMesh, name: string): Pick<LoopMeshHooks, 'rolloutHooks'> {
  if (!mesh.rolloutWaitHealthy) return {};
  return {
    rolloutHooks: {
      waitHealthy: (next, endpoints, timeoutMs, signal) => mesh.rolloutWaitHealthy!(name, next, endpoints, timeoutMs, signal),
      discard: (next) => mesh.rolloutDiscard?.(name, next),
      promote: (next) => mesh.rolloutPromote?.(name, next),
    },
  };
}

/** One project's mesh, for stops and restarts the manager does itself (outside the loop's plan). */
export interface ManualStopContext {
  mesh: ProjectMesh | undefined;
  project: string;
  /** Read at call time: the drain grace and whether a service is routed follow the latest desired state. */
  desired: () => DesiredProject | undefined;
  /** With these, the service's pre_stop / post_start run around the manager's own stops and starts. */
  engine?: ContainerEngine;
  emit?: (event: DaemonEvent) => void;
}

/** The desired service's lifecycle hooks around a manual stop or start (none without an engine to exec in). */
function hookContext(ctx: ManualStopContext): HookContext | undefined {
  if (!ctx.engine) return undefined;
  return { engine: ctx.engine, project: ctx.project, emit: ctx.emit ?? (() => {}), now: Date.now };
}

/** post_start of a replica the manager started itself (`start`, `restart`, sync+restart); throws CMESH_E_HOOK_FAILED. */
export async function postStartHooks(ctx: ManualStopContext, c: ContainerInfo): Promise<void> {
  const ref = replicaRef(c);
  const hooks = ref ? ctx.desired()?.project.services[ref.service]?.postStart : undefined;
  const hc = hookContext(ctx);
  if (ref && hooks?.length && hc) await runPostStart(hc, ref, hooks);
}

/** The replica a cmesh container stands for, or undefined for one without usable service/replica labels. */
export function replicaRef(c: ContainerInfo): ContainerRef | undefined {
  const service = c.labels[Labels.service];
  const replica = Number(c.labels[Labels.replica]);
  if (service === undefined || !(replica > 0)) return undefined;
  return { id: c.id, name: c.name, service, replica };
}

/** The mesh drains a running replica before `stop` runs, and lets it rise again after. */
export async function drainedStop(ctx: ManualStopContext, c: ContainerInfo, request: ServicesRequest, stop: () => Promise<void>): Promise<void> {
  const { mesh } = ctx;
  const ref = replicaRef(c);
  if (c.state !== 'running' || !ref) return stop();
  const spec = ctx.desired()?.project.services[ref.service];
  const hc = hookContext(ctx);
  const preStop = async (): Promise<void> => {
    if (hc && spec?.preStop?.length) await runPreStop(hc, ref, spec.preStop);
  };
  if (!mesh) {
    await preStop();
    return stop();
  }
  const graceMs = Math.min(request.timeoutMs ?? spec?.stopGracePeriodMs ?? 10_000, 30_000);
  await mesh.beforeStop(ctx.project, ref, graceMs);
  try {
    await preStop();
    await stop();
  } finally {
    mesh.afterStop(ctx.project, ref, false);
  }
}
