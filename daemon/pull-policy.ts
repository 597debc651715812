// Compose's pull_policy as pure decisions: what `up` does with a service's image, and what `cmesh pull` pulls.
// Kept apart from the I/O (images.ts, pull-images.ts) so every policy × fact combination is one table test.

import type { PullPolicy } from './api/project.ts';
import { DAY_MS, parseEvery, WEEK_MS } from './config/normalize/pull-policy.ts';

export { DAY_MS, parseEvery, WEEK_MS };

/** How old cmesh's last pull of an image may get under a periodic policy; undefined for the others. */
export function pullIntervalMs(policy: PullPolicy | undefined): number | undefined {
  if (policy === 'daily') return DAY_MS;
  if (policy === 'weekly') return WEEK_MS;
  return policy?.startsWith('every_') ? parseEvery(policy) : undefined;
}

export interface ImageFacts {
  /** The image is present in the engine. */
  present: boolean;
  /** Epoch ms of cmesh's last successful pull of this image (pull-state.ts), if any. */
  lastPulledAt?: number;
  now: number;
}

/**
 * `up` for a service with only `image:`. `refuse` = fail with CMESH_E_IMAGE_MISSING (policy never, or build without a
 * build section, which the loader already reports).
 */
export function imageServiceAction(policy: PullPolicy | undefined, facts: ImageFacts): 'pull' | 'use-local' | 'refuse' {
  switch (policy) {
    case undefined:
    case 'missing':
      return facts.present ? 'use-local' : 'pull';
    case 'always':
      return 'pull';
    case 'never':
    case 'build':
      return facts.present ? 'use-local' : 'refuse';
    default:
      return facts.present && !periodicDue(policy, facts) ? 'use-local' : 'pull';
  }
}

/**
 * `up` for a service with `build:`. cmesh's builder is keyed on the context hash, so building is how such a service
 * stays current (see README "Deliberate differences"); a pull is tried first only when the policy asks to refresh the
 * named image (always, or a periodic policy that is due), and a failed pull falls back to the build, as in Compose.
 */
export function buildServiceAction(
  policy: PullPolicy | undefined,
  hasImage: boolean,
  facts: ImageFacts,
): 'build' | 'force-build' | 'pull-or-build' {
  if (policy === 'build') return 'force-build';
  if (!hasImage) return 'build';
  if (policy === 'always') return 'pull-or-build';
  const interval = pullIntervalMs(policy);
  return policy !== undefined && interval !== undefined && periodicDue(policy, facts) ? 'pull-or-build' : 'build';
}

function periodicDue(policy: PullPolicy, facts: ImageFacts): boolean {
  const interval = pullIntervalMs(policy);
  if (interval === undefined) return true;
  return facts.lastPulledAt === undefined || facts.now - facts.lastPulledAt >= interval;
}

/**
 * `cmesh pull`, as `docker compose pull`: never and build skip; an explicit `missing` skips an image that is present,
 * unless its tag is `latest` (which Compose always refreshes); everything else (unset too) pulls.
 */
export function pullCommandAction(policy: PullPolicy | undefined, image: string, present: boolean): 'pull' | 'skip' {
  if (policy === 'never' || policy === 'build') return 'skip';
  if (policy === 'missing' && present && tagOf(image) !== 'latest') return 'skip';
  return 'pull';
}

function tagOf(image: string): string | undefined {
  if (image.includes('@')) return undefined;
  const last = image.slice(image.lastIndexOf('/') + 1);
  const colon = last.indexOf(':');
  return colon < 0 ? 'latest' : last.slice(colon + 1);
}
