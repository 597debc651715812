// The mesh's side of a start-first rollout: the new container joins the pool beside the old replica under its own id,
// is probed quickly until it passes, then takes over the replica's id with the health it earned (no second warm-up).

import { probeOnce } from '../mesh/health/probe.ts';
import type { Registry } from '../mesh/registry.ts';
import { endpointFor, replicaHost } from '../mesh/replica-entry.ts';
import type { Endpoint } from './api/engine.ts';
import { replicaId } from './api/labels.ts';
import type { ContainerRef } from './reconcile/plan-types.ts';

/** Pool id of a rollout's new container while the old one still holds `<service>#<n>`. */
export const nextPoolId = (service: string, replica: number): string => `${replicaId(service, replica)}~next`;

/**
 * The rollout waits on these probes, not the pool's own interval, and every tick counts for `watch` (bench/watch.ts):
 * a booting node answers its first probe ~100–200 ms after start, so the new container is probed at once and then
 * every 25 ms while it boots (a refused probe costs a connect through Docker's port proxy, nothing more), every 100 ms
 * once it is slow to come up. Rise stays the service's `rise`: consecutive passes of the real probe. Once a probe passes,
 * the confirming ones go at the fast interval again: a replica that boots after the fast window (3 s on a loaded host)
 * would otherwise wait 100 ms per remaining pass (~130 ms after boot at the default rise 2 instead of ~40 ms).
 */
const ROLLOUT_PROBE_FAST_MS = 25;
const ROLLOUT_PROBE_SLOW_MS = 100;
/** How long the fast interval lasts after the first probe. */
const ROLLOUT_FAST_WINDOW_MS = 2_000;
/**
 * A bare TCP probe passes as soon as Docker's port proxy accepts, even before the process listens: TCP-probed services
 * must also stay up this long, so a crash at start is seen before the old replica goes.
 */
const TCP_SETTLE_MS = 1_000;

export interface MeshRolloutDeps {
  registry: Registry;
  closeUpstream(project: string, service: string, id: string): void;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Adds `next` to its service's pool (not routable yet) and probes it with the service's probe until `rise` consecutive
 * passes; then marks it healthy, which makes it routable beside the old replica. False on timeout or abort.
 */
export async function waitNextHealthy(
  deps: MeshRolloutDeps,
  project: string,
  next: ContainerRef,
  endpoints: Endpoint[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const pool = deps.registry.pool(project, next.service);
  const id = nextPoolId(next.service, next.replica);
  pool.upsert({ id, replica: next.replica, container: next.id, endpoints, state: 'running' });
  const probe = pool.healthProbe;
  const ep = endpointFor({ endpoints }, pool.ports, probe.port);
  if (!ep) return false;
  const started = Date.now();
  const deadline = started + timeoutMs;
  const rise = Math.max(1, probe.rise);
  let passes = 0;
  while (!signal?.aborted && Date.now() < deadline) {
    const r = await probeOnce({
      host: replicaHost(ep),
      port: ep.hostPort,
      path: probe.path,
      timeoutMs: Math.min(probe.timeoutMs, 2_000),
      ...(signal ? { signal } : {}),
    });
    passes = r.ok ? passes + 1 : 0;
    const settled = probe.path !== undefined || Date.now() - started >= TCP_SETTLE_MS;
    if (passes >= rise && settled) {
      pool.setActiveHealth(id, true, `rollout: ${passes} passing probes (${r.reason})`);
      return true;
    }
    const fast = passes > 0 || Date.now() - started < ROLLOUT_FAST_WINDOW_MS;
    await sleep(fast ? ROLLOUT_PROBE_FAST_MS : ROLLOUT_PROBE_SLOW_MS, signal);
  }
  return false;
}

/** The new container failed or is being removed: out of the pool and the proxies' connection pools. */
export function discardNext(deps: MeshRolloutDeps, project: string, next: ContainerRef): void {
  const id = nextPoolId(next.service, next.replica);
  const pool = deps.registry.list(project).find((p) => p.service === next.service);
  if (!pool?.replicaIds().includes(id)) return;
  pool.remove(id);
  deps.closeUpstream(project, next.service, id);
}

/** The old replica is gone and `next` was renamed over it: it takes the replica's pool id, health and all. */
export function promoteNext(deps: MeshRolloutDeps, project: string, next: ContainerRef): void {
  const pool = deps.registry.list(project).find((p) => p.service === next.service);
  if (!pool) return;
  const canonical = replicaId(next.service, next.replica);
  if (pool.replicaIds().includes(canonical)) {
    pool.remove(canonical);
    deps.closeUpstream(project, next.service, canonical);
  }
  pool.rekey(nextPoolId(next.service, next.replica), canonical);
  // The proxies keyed their connections to it by the old id; the next pick opens fresh ones under the new id.
  deps.closeUpstream(project, next.service, nextPoolId(next.service, next.replica));
}
