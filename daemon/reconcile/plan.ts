// plan(): the pure heart of reconcile — desired state + one observation → ordered stages of engine actions.

import { networkOptionsDigest, optionsLabel, volumeOptionsDigest } from '../api/resource-options.ts';
import { type DesiredProject, desiredReplicas } from '../api/desired.ts';
import { eastWestPlan, GATEWAY_SERVICE } from '../api/east-west.ts';
import type { NetworkInfo, VolumeInfo } from '../api/engine.ts';
import { Labels, projectLabels } from '../api/labels.ts';
import type { DependsCondition, ProjectSpec } from '../api/project.ts';
import { specHash } from './hash.ts';
import { hooksOf } from './lifecycle-hooks.ts';
import type { ObservedProject } from './observe.ts';
import { dependenciesOf, dependencyLevels, dependencyStages, touchedServices } from './plan-graph.ts';
import { ORPHAN_STOP_TIMEOUT_SEC } from './plan-down.ts';
import { planGateway } from './plan-gateway.ts';
import { planService, refOf, removeAction, type ServiceInput } from './plan-service.ts';
import { type Action, type DeferredRestart, type Plan, type PlanContext, type Stage, startsSomething, type WaitGate } from './plan-types.ts';

export type { Action, DeferredRestart, DownOptions, Plan, PlanContext, Stage, WaitGate } from './plan-types.ts';
export { actionCount } from './plan-types.ts';
export { planDown } from './plan-down.ts';

/** The fields that are set, so specs without the newer options print and compare as before. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Networks and volumes the project declares but the engine lacks; external ones are the user's business. */
export function setupActions(project: ProjectSpec, networks: NetworkInfo[], volumes: VolumeInfo[]): Action[] {
  const actions: Action[] = [];
  const haveNet = new Set(networks.map((n) => n.name));
  for (const [key, net] of Object.entries(project.networks).sort(([a], [b]) => a.localeCompare(b))) {
    if (net.external || haveNet.has(net.engineName)) continue;
    const labels = { ...net.labels, ...projectLabels(project.name), [Labels.network]: key, ...optionsLabel(networkOptionsDigest(net)) };
    const { driverOpts, attachable, enableIpv6, enableIpv4, ipam } = net;
    const spec = {
      name: net.engineName,
      labels,
      internal: net.internal,
      ...(net.driver ? { driver: net.driver } : {}),
      ...defined({ driverOpts, attachable, enableIpv6, enableIpv4, ipam }),
    };
    actions.push({ kind: 'ensure-network', name: net.engineName, spec });
  }
  const haveVol = new Set(volumes.map((v) => v.name));
  for (const [key, vol] of Object.entries(project.volumes).sort(([a], [b]) => a.localeCompare(b))) {
    if (vol.external || haveVol.has(vol.engineName)) continue;
    const labels = { ...vol.labels, ...projectLabels(project.name), [Labels.volume]: key, ...optionsLabel(volumeOptionsDigest(vol)) };
    const spec = { name: vol.engineName, labels, ...(vol.driver ? { driver: vol.driver } : {}), ...defined({ driverOpts: vol.driverOpts }) };
    actions.push({ kind: 'ensure-volume', name: vol.engineName, spec });
  }
  return actions;
}

/** Compose's order of strength, so two dependents asking different things of one dependency wait once each. */
const CONDITION_ORDER: DependsCondition[] = ['service_started', 'service_healthy', 'service_completed_successfully'];

/** Gates for the dependents in a stage that bring something up; a stage that only removes or stops never waits. */
function gatesFor(desired: DesiredProject, services: string[], actions: Action[], meshed: ReadonlySet<string>, notes: string[]): WaitGate[] {
  const spec = desired.project.services;
  const starting = new Set(
    actions.filter(startsSomething).map((a) => (a.kind === 'create' || a.kind === 'rollout' ? a.service : 'target' in a ? a.target.service : '')),
  );
  const gates = new Map<string, WaitGate>();
  for (const name of services) {
    if (!starting.has(name)) continue;
    for (const dep of dependenciesOf(spec, name)) {
      const rule = spec[name]!.dependsOn[dep]!;
      const replicas = desiredReplicas(desired, dep);
      if (desired.stopped.includes(dep) || replicas === 0) {
        notes.push(`${name}: dependency ${dep} is ${replicas === 0 ? 'scaled to 0' : 'stopped'}, not waiting for it`);
        continue;
      }
      const key = `${dep}\0${rule.condition}`;
      const gate: WaitGate = gates.get(key) ?? { service: dep, condition: rule.condition, replicas, for: [], ...(meshed.has(dep) ? { byName: true as const } : {}) };
      gate.for.push(name);
      gates.set(key, gate);
    }
  }
  return [...gates.values()].sort(
    (a, b) => a.service.localeCompare(b.service) || CONDITION_ORDER.indexOf(a.condition) - CONDITION_ORDER.indexOf(b.condition),
  );
}

/**
 * An action that gives replica 1 of its service new namespaces (a new container, or a start: the engine makes a fresh
 * network namespace each time a container starts), which those who joined the old ones must follow. A supervised
 * restart is left to the next pass (startedAt in lostNamespace): a crash-looping x must not drag its dependents
 * through a depends_on gate on every self-healing pass.
 */
function replacesFirstReplica(a: Action): boolean {
  if (a.kind === 'create') return a.replica === 1;
  if (a.kind === 'recreate' || a.kind === 'promote' || a.kind === 'start') return a.target.replica === 1;
  if (a.kind === 'rollout') return a.steps.some((s) => s.target.replica === 1);
  return false;
}

/** The `service:x` namespaces (network_mode, ipc, pid, uts) `name` joins, with what the plan knows of x's replica 1. */
function namespaceJoins(project: ProjectSpec, name: string, observed: ObservedProject, replaced: ReadonlySet<string>): NonNullable<ServiceInput['joins']> {
  const o = project.services[name]?.options;
  const joined = new Set<string>();
  for (const mode of [o?.networkMode, o?.ipc, o?.pid, o?.uts]) if (mode?.startsWith('service:')) joined.add(mode.slice('service:'.length));
  return [...joined].sort().map((service) => {
    const first = (observed.services[service]?.[1] ?? []).find((c) => c.state === 'running');
    return { service, replacedNow: replaced.has(service), ...(first?.startedAt === undefined ? {} : { startedAt: first.startedAt }) };
  });
}

/**
 * Plans one `up` pass. Pure: the same inputs give the same plan, which golden tests pin down. Throws CMESH_E_CONFIG
 * for a dependency cycle and CMESH_E_SERVICE_NOT_FOUND for an unknown selected service.
 */
export function plan(desired: DesiredProject, observed: ObservedProject, ctx: PlanContext): Plan {
  const project = desired.project;
  const touched = touchedServices(project.services, desired.selected);
  const levels = dependencyLevels(project.services, touched);
  const notes: string[] = [];
  const deferred: DeferredRestart[] = [];
  const stages: Stage[] = [];

  const setup = setupActions(project, observed.networks, observed.volumes);
  for (const c of observed.orphans) {
    const service = c.labels[Labels.service] ?? '?';
    if (!ctx.removeOrphans) {
      notes.push(`${c.name}: orphan (service ${service} is not in the project), kept; use --remove-orphans`);
      continue;
    }
    setup.push(removeAction(c, refOf(c, service, Number(c.labels[Labels.replica]) || 0), ORPHAN_STOP_TIMEOUT_SEC, 'orphan'));
  }
  if (setup.length > 0) stages.push({ name: 'setup', services: [], waits: [], actions: setup });
  // Before the replicas: a replica that drops its service aliases must find the gateway already answering for them.
  // A gateway for services with no container yet runs beside the first replicas instead (nobody calls them yet, and
  // their dependents start in a later stage, when the gateway answers for their names).
  const started = new Set(Object.keys(observed.services).filter((s) => Object.keys(observed.services[s] ?? {}).length > 0));
  const gateway = planGateway(project, observed.gateway ?? [], ctx.gateway, notes, started, ctx.failedRollouts, observed.shared);
  if (gateway.before.length > 0) stages.push({ name: 'gateway', services: [], waits: [], actions: gateway.before });

  // One stage per service with work: it follows the project-wide stages and its dependencies' stages only.
  const barriers = stages.map((_, i) => i);
  // Services whose names the gateway answers in this pass; gates on them also wait for the gateway's listeners.
  const meshed = new Set(ctx.gateway ? eastWestPlan(project).services.map((s) => s.name) : []);
  // The gateway of services that have no container yet starts beside them; a service with a meshed dependency also
  // waits for it (its gate then finds the gateway there to answer); other dependents need not.
  let besideGateway: number | undefined;
  if (gateway.concurrent.length > 0) {
    besideGateway = stages.length;
    stages.push({ name: 'gateway', services: [], waits: [], actions: gateway.concurrent, after: [...barriers] });
  }
  const stageOf = new Map<string, number>();
  // Services whose first replica gets a new container in this pass: whoever joins its namespace must follow.
  const replaced = new Set<string>();
  for (const services of levels) {
    for (const name of services) {
      const service = project.services[name]!;
      const joins = namespaceJoins(project, service.name, observed, replaced);
      const out = planService(
        {
          project,
          service,
          count: desiredReplicas(desired, name),
          stopped: desired.stopped.includes(name),
          updatedAt: desired.updatedAt,
          hash: specHash(project, service, ctx.imageIds?.[name]),
          observed: observed.services[name] ?? {},
          next: observed.next[name] ?? {},
          ...(ctx.failedRollouts?.[name] === undefined ? {} : { failedHash: ctx.failedRollouts[name] }),
          ...(joins.length > 0 ? { joins } : {}),
        },
        ctx,
      );
      if (out.actions.some(replacesFirstReplica)) replaced.add(name);
      deferred.push(...out.deferred);
      notes.push(...out.notes);
      if (out.actions.length === 0) continue;
      const after = [...barriers, ...dependencyStages(project.services, name, touched, stageOf)];
      if (besideGateway !== undefined && dependenciesOf(project.services, name).some((d) => meshed.has(d))) after.push(besideGateway);
      stageOf.set(name, stages.length);
      stages.push({ name, services: [name], waits: gatesFor(desired, [name], out.actions, meshed, notes), actions: out.actions, after });
    }
  }

  // The shared gateway leaves a project's names to its own gateway only once that one answers for them.
  const byName = gateway.afterByName.map((service): WaitGate => ({ service, condition: 'service_started', replicas: 0, for: [GATEWAY_SERVICE], byName: true }));
  if (gateway.after.length > 0) stages.push({ name: 'gateway', services: [], waits: byName, actions: gateway.after });

  deferred.sort((a, b) => a.notBefore - b.notBefore || a.target.name.localeCompare(b.target.name));
  const result: Plan = { kind: 'up', project: project.name, generation: desired.generation, now: ctx.now, stages, deferred, notes };
  const hooks = hooksOf(project.services);
  if (Object.keys(hooks).length > 0) result.hooks = hooks;
  if (deferred[0]) result.wakeAt = deferred[0].notBefore;
  return result;
}
