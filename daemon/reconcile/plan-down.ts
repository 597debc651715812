// planDown(): tear a project down in reverse dependency order, then its networks and, when asked, its volumes.

import type { DesiredProject } from '../api/desired.ts';
import type { ContainerInfo } from '../api/engine.ts';
import { Labels } from '../api/labels.ts';
import { stopTimeoutSec } from './container-spec.ts';
import type { ObservedProject } from './observe.ts';
import { gatewayRef } from './plan-gateway.ts';
import { planSharedGateway, projectNetworkNames } from './plan-gateway-shared.ts';
import { hooksOf } from './lifecycle-hooks.ts';
import { dependencyLevels } from './plan-graph.ts';
import { refOf, removeAction } from './plan-service.ts';
import type { Action, DownOptions, Plan, Stage } from './plan-types.ts';

/** Docker's own default, for containers whose service (and so stop_grace_period) we no longer know. */
export const ORPHAN_STOP_TIMEOUT_SEC = 10;

function removals(containers: ContainerInfo[], timeoutSec: number, reason: string): Action[] {
  return containers
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
    .map((c) => removeAction(c, refOf(c, c.labels[Labels.service] ?? '?', Number(c.labels[Labels.replica]) || 0), timeoutSec, reason));
}

/**
 * Without a desired state (the daemon forgot the project) every labelled container is removed: there is nothing it
 * could be an orphan of. With one, orphans go only on `removeOrphans`, like `docker compose down`.
 */
export function planDown(desired: DesiredProject | undefined, observed: ObservedProject, options: DownOptions, now: number): Plan {
  const stages: Stage[] = [];
  const notes: string[] = [];
  const removeOrphans = options.removeOrphans || desired === undefined;

  // `cmesh run` containers first, like Compose's down: they may depend on services and hold the project's networks.
  const oneoffs = (observed.oneoffs ?? []).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  if (oneoffs.length > 0) {
    const actions = oneoffs.map((c) =>
      removeAction(c, refOf(c, c.labels[Labels.oneoffService] ?? '?', 0), ORPHAN_STOP_TIMEOUT_SEC, 'down: one-off container'),
    );
    stages.push({ name: 'one-off', services: [], waits: [], actions });
  }

  if (observed.orphans.length > 0) {
    if (removeOrphans) {
      stages.push({ name: 'orphans', services: [], waits: [], actions: removals([...observed.orphans], ORPHAN_STOP_TIMEOUT_SEC, 'down') });
    } else {
      for (const c of observed.orphans) notes.push(`${c.name}: orphan, kept; use --remove-orphans`);
    }
  }

  if (desired) {
    const services = desired.project.services;
    // Dependents first, so nothing loses a dependency while it still runs.
    const levels = dependencyLevels(services, new Set(Object.keys(services))).reverse();
    for (const level of levels) {
      const actions: Action[] = [];
      for (const name of level) {
        const containers = [...Object.values(observed.services[name] ?? {}), ...Object.values(observed.next[name] ?? {})].flat();
        actions.push(...removals(containers, stopTimeoutSec(services[name]!), 'down'));
      }
      if (actions.length > 0) stages.push({ name: level.join(','), services: level, waits: [], actions });
    }
  }

  // The gateway holds an endpoint on every project network: it goes before them, whatever the desired state says.
  const gateway: Action[] = (observed.gateway ?? []).map((c) => {
    const target = gatewayRef(c);
    return c.state === 'running' || c.state === 'paused' || c.state === 'restarting'
      ? ({ kind: 'remove', target, stopTimeoutSec: 2, reason: 'down' } as const)
      : ({ kind: 'remove', target, reason: 'down' } as const);
  });
  // The daemon's shared gateway is not the project's: it only leaves the project's networks (it serves other projects).
  if (observed.shared) {
    const networks = new Set([...observed.networks.map((n) => n.name), ...(desired ? projectNetworkNames(desired.project) : [])]);
    gateway.push(...planSharedGateway(networks, observed.shared.name, observed.shared, [], false).after);
  }
  if (gateway.length > 0) stages.push({ name: 'gateway', services: [], waits: [], actions: gateway });

  const teardown: Action[] = [];
  const keptContainers = !removeOrphans && observed.orphans.length > 0;
  for (const n of [...observed.networks].sort((a, b) => a.name.localeCompare(b.name))) {
    // The engine refuses to remove a network with containers attached; say why instead of failing the whole down.
    if (keptContainers) notes.push(`network ${n.name}: kept, orphan containers still attached`);
    else teardown.push({ kind: 'remove-network', name: n.name });
  }
  if (options.volumes) {
    for (const v of [...observed.volumes].sort((a, b) => a.name.localeCompare(b.name))) teardown.push({ kind: 'remove-volume', name: v.name });
  } else if (observed.volumes.length > 0) {
    notes.push(`volumes kept: ${observed.volumes.map((v) => v.name).sort().join(', ')}; use --volumes to remove them`);
  }
  if (teardown.length > 0) stages.push({ name: 'teardown', services: [], waits: [], actions: teardown });

  const hooks = desired ? hooksOf(desired.project.services) : {};
  return { kind: 'down', project: observed.project, generation: desired?.generation ?? 0, now, stages, deferred: [], notes, ...(Object.keys(hooks).length > 0 ? { hooks } : {}) };
}
