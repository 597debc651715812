// One service update that survives Swarm's own writes: the engine's updater bumps a service's version (UpdateStatus)
// while a rolling update runs, so an update built on an older read is refused "update out of sequence". Read again,
// rebuild the spec from what is there now, and send it once more.

import { CmeshError } from '../api/errors.ts';
import type { SwarmEngine, SwarmServiceInfo, SwarmServiceSpec } from '../api/swarm-engine.ts';

/** Reads are cheap and the updater writes a few times per task; five tries cover a busy rolling update. */
const ATTEMPTS = 5;

const outOfSequence = (err: unknown): boolean => err instanceof CmeshError && err.details['reason'] === 'out-of-sequence';

/**
 * Sends `next(current)` as the service's new spec at `current`'s version; on "out of sequence" reads the service
 * again and rebuilds. `next` returning undefined means the service already is as wanted (nothing is sent).
 * Returns whether an update was sent.
 */
export async function updateService(swarm: SwarmEngine, have: SwarmServiceInfo, next: (current: SwarmServiceInfo) => SwarmServiceSpec | undefined): Promise<boolean> {
  let current = have;
  for (let attempt = 1; ; attempt += 1) {
    const spec = next(current);
    if (!spec) return false;
    try {
      await swarm.updateService(current.id, current.version, spec);
      return true;
    } catch (err) {
      if (!outOfSequence(err) || attempt >= ATTEMPTS) throw err;
    }
    const again = await swarm.inspectService(current.id);
    if (!again) {
      throw new CmeshError('CMESH_E_ENGINE', `service "${have.spec.Name}" was removed while cmesh updated it`, {
        hint: 'something else removed it (docker service rm?); run `cmesh up` to create it again',
        details: { op: 'service-update', reason: 'gone', service: have.spec.Name },
      });
    }
    current = again;
  }
}
