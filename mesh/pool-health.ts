// Wires active health checks to a pool: one checker per pool, following its replicas until the signal aborts.

import { ActiveChecker, type ActiveOptions } from './health/active.ts';
import type { ServicePool } from './pool.ts';

/**
 * Probes every running replica of `pool` with the service's HealthProbe; transitions become the pool's active
 * health (and 'health' events), every probe result feeds passive recovery. Replicas added later are picked up.
 */
export function startHealthChecks(pool: ServicePool, signal: AbortSignal, opts: Omit<ActiveOptions, 'signal'> = {}): void {
  if (signal.aborted) return;
  const checker = new ActiveChecker(
    pool.healthProbe,
    {
      onTransition: (t) => pool.setActiveHealth(t.id, t.healthy, t.reason),
      onProbe: (id, r) => pool.onProbe(id, r.ok, r.reason),
    },
    { ...opts, signal },
  );
  const sync = () => {
    checker.setProbe(pool.healthProbe);
    checker.setTargets(pool.probeTargets());
  };
  const off = pool.onTargetsChanged(sync);
  signal.addEventListener(
    'abort',
    () => {
      off();
      checker.close();
    },
    { once: true },
  );
  sync();
}
