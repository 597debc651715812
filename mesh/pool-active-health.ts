// A pool replica's active health: whom to probe, and probe or engine verdicts written onto the replica entry.

import type { Endpoint } from '../daemon/api/engine.ts';
import type { PortMapping } from '../daemon/api/project.ts';
import type { ProbeTarget } from './health/active.ts';
import { endpointFor, engineHealthOf, type ReplicaEntry } from './replica-entry.ts';

/** Running replicas with a probe endpoint: health.port's published endpoint, else the primary one. */
export function probeTargets(
  replicas: Iterable<ReplicaEntry>,
  ports: PortMapping[],
  healthPort: number | undefined,
  upstreamHost: (ep: Endpoint) => string,
): ProbeTarget[] {
  const out: ProbeTarget[] = [];
  for (const r of replicas) {
    if (r.state !== 'running') continue;
    const ep = endpointFor(r, ports, healthPort);
    if (ep) out.push({ id: r.id, port: ep.hostPort, host: upstreamHost(ep), generation: r.container, healthy: r.active === 'healthy' });
  }
  return out;
}

/** A checker's transition; a replica that passed once is warmed up for good (until its process stops). */
export function markActive(r: ReplicaEntry, healthy: boolean, reason: string): void {
  r.active = healthy ? 'healthy' : 'unhealthy';
  r.activeReason = reason;
  if (healthy) r.everHealthy = true;
}

/**
 * A replica with UDP ports only takes the engine's health (running; `healthy` if it has a healthcheck). Returns the
 * verdict a health event should announce, or undefined when nothing changed or the new state is still unknown.
 */
export function applyEngineHealth(r: ReplicaEntry): { healthy: boolean; reason: string } | undefined {
  const { active, reason } = engineHealthOf(r);
  if (active === r.active) return undefined;
  r.active = active;
  r.activeReason = reason;
  if (active === 'healthy') r.everHealthy = true;
  return active === 'unknown' ? undefined : { healthy: active === 'healthy', reason };
}
