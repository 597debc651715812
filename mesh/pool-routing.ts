// Which of a pool's replicas may take traffic: serving, healthy, and Envoy's panic rule, as pure decisions.

import type { PortMapping } from '../daemon/api/project.ts';
import type { PassiveState } from './health/passive.ts';
import { endpointFor, probeless, type ReplicaEntry } from './replica-entry.ts';

/** Running, not draining, and reachable (a published endpoint, or UDP-only with engine health). */
export function isServing(r: ReplicaEntry, ports: PortMapping[]): boolean {
  return !r.draining && r.state === 'running' && (endpointFor(r, ports) !== undefined || probeless(r));
}

/** Serving and passing both active health (when the pool is probed) and passive health. */
export function isHealthy(r: ReplicaEntry, ports: PortMapping[], activeChecks: boolean, passive: PassiveState): boolean {
  const active = activeChecks ? r.active === 'healthy' : true;
  return isServing(r, ports) && active && passive === 'ok';
}

/**
 * The routable set: the healthy replicas, or, when fewer than `panicPercent` % of the warmed-up serving replicas are
 * healthy, every warmed-up serving replica as well (a pool that ejected most of itself balances over all of them).
 */
export function routing(
  replicas: Iterable<ReplicaEntry>,
  ports: PortMapping[],
  activeChecks: boolean,
  passive: { state(id: string): PassiveState },
  panicPercent: number,
): { panic: boolean; routable: Set<string> } {
  const healthy: string[] = [];
  const warmed: string[] = [];
  for (const r of replicas) {
    if (!isServing(r, ports)) continue;
    if (r.everHealthy || !activeChecks) warmed.push(r.id);
    if (isHealthy(r, ports, activeChecks, passive.state(r.id))) healthy.push(r.id);
  }
  const panic = warmed.length > 0 && healthy.length < (warmed.length * panicPercent) / 100;
  return { panic, routable: new Set(panic ? [...warmed, ...healthy] : healthy) };
}
