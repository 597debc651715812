// One replica as the pool tracks it, the pure helpers that read it (endpoint choice, loopback host), and its drain wait.

import type { ContainerHealth, ContainerState, Endpoint } from '../daemon/api/engine.ts';
import type { PortMapping } from '../daemon/api/project.ts';
import type { ReplicaStats } from './replica-stats.ts';

export interface ReplicaInput {
  /** Pool id; default `<service>#<replica>`. A rollout's new container sits beside the old one as `<service>#<n>~next`. */
  id?: string;
  replica: number;
  container: string;
  endpoints: Endpoint[];
  /** Overrides the service's weights/weight for this replica. */
  weight?: number;
  state: ContainerState;
  /** The engine's healthcheck status; it is the health of a replica the mesh cannot probe (UDP ports only). */
  health?: ContainerHealth;
  /**
   * Only when the pool first meets this container: start it healthy instead of making it rise (the east-west gateway
   * starting beside replicas the daemon already probes healthy). Its own probes take over from there.
   */
  seedHealthy?: boolean;
}

export interface ReplicaEntry {
  /** Pool id, `<service>#<replica>`. */
  id: string;
  replica: number;
  container: string;
  endpoints: Endpoint[];
  weightOverride?: number;
  state: ContainerState;
  containerHealth: ContainerHealth;
  draining: boolean;
  active: 'healthy' | 'unhealthy' | 'unknown';
  activeReason?: string;
  /** Replicas that never passed a check are warming up: not routable, and not counted for panic either. */
  everHealthy: boolean;
  inflight: number;
  stats: ReplicaStats;
  drainWaiters: (() => void)[];
}

export function newEntry(id: string, input: ReplicaInput, stats: ReplicaStats): ReplicaEntry {
  return {
    id,
    replica: input.replica,
    container: input.container,
    endpoints: input.endpoints,
    state: input.state,
    containerHealth: input.health ?? 'none',
    draining: false,
    active: input.seedHealthy === true ? 'healthy' : 'unknown',
    ...(input.seedHealthy === true ? { activeReason: 'healthy per the daemon' } : {}),
    everHealthy: input.seedHealthy === true,
    inflight: 0,
    stats,
    drainWaiters: [],
  };
}

/**
 * Where the daemon dials a replica's endpoint: the container's own address when the engine adapter reported it as
 * direct (taken from the project network the replica was made to be reached on); else its published port, on loopback
 * only, never following a wildcard or bridge address the engine may report for a binding.
 */
export function replicaHost(ep: Endpoint): string {
  if (ep.direct === true) return ep.host;
  return ep.host === '::1' ? '::1' : '127.0.0.1';
}

/** The endpoint serving `containerPort`, else the service's primary (first published) port, else the first TCP one. */
export function endpointFor(r: Pick<ReplicaEntry, 'endpoints'>, ports: PortMapping[], containerPort?: number): Endpoint | undefined {
  const tcp = r.endpoints.filter((e) => e.protocol === 'tcp');
  const want = containerPort ?? ports.find((p) => p.published !== undefined && p.protocol === 'tcp')?.target;
  return (want === undefined ? undefined : tcp.find((e) => e.containerPort === want)) ?? tcp[0];
}

/** A UDP container port's endpoint: that exact port, no fallback (a datagram sent to another port is lost). */
export function udpEndpointFor(r: Pick<ReplicaEntry, 'endpoints'>, containerPort: number): Endpoint | undefined {
  return r.endpoints.find((e) => e.protocol === 'udp' && e.containerPort === containerPort);
}

/**
 * Only UDP ports: the mesh has nothing to probe (a datagram gets no answer it could judge), so the engine's view is the
 * replica's health — running, and `healthy` when the image or compose file has a healthcheck.
 */
export function probeless(r: Pick<ReplicaEntry, 'endpoints'>): boolean {
  return r.endpoints.length > 0 && r.endpoints.every((e) => e.protocol === 'udp');
}

/** The engine's view as active health: `starting` is not yet known, a stopped or unhealthy container is unhealthy. */
export function engineHealthOf(r: Pick<ReplicaEntry, 'state' | 'containerHealth'>): { active: ReplicaEntry['active']; reason: string } {
  if (r.state !== 'running') return { active: 'unhealthy', reason: `container ${r.state}` };
  if (r.containerHealth === 'starting') return { active: 'unknown', reason: 'container health: starting' };
  if (r.containerHealth === 'unhealthy') return { active: 'unhealthy', reason: 'container health: unhealthy' };
  return { active: 'healthy', reason: `container ${r.containerHealth === 'healthy' ? 'healthy' : 'running'} (UDP only: nothing to probe)` };
}

/** Resolves when the replica's in-flight requests are done (finishDrain) or after graceMs, whichever comes first. */
export function drained(r: Pick<ReplicaEntry, 'inflight' | 'drainWaiters'>, graceMs: number): Promise<void> {
  if (r.inflight === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, graceMs);
    function done() {
      clearTimeout(timer);
      resolve();
    }
    r.drainWaiters.push(done);
  });
}

/** Wakes everyone waiting for the replica's drain: its last request ended, it left, or it stopped draining. */
export function finishDrain(r: Pick<ReplicaEntry, 'drainWaiters'>): void {
  const waiters = r.drainWaiters.splice(0);
  for (const w of waiters) w();
}
