// Gateway image garbage collection on an engine that several daemons may share (two users, two CMESH_HOMEs, a CI
// daemon beside a dev one, an old and a new cmesh during an upgrade): a daemon removes the gateway images of other
// cmesh versions, but never one any container (any state, any daemon) was made from, nor one built or claimed within
// the grace period, which is how a daemon that just built or found its image protects it until its gateway exists.

import type { ContainerEngine, ContainerInfo, ImageSummary } from './api/engine.ts';
import { withLatestTag } from './api/engine-images.ts';
import { CmeshError } from './api/errors.ts';
import { Labels } from './api/labels.ts';
import { parseDuration } from './config/normalize/duration.ts';

export const GATEWAY_REPO = 'cmesh/gateway';
/** What marks an image as a gateway image cmesh built (and may remove once no cmesh version uses it). */
export const GATEWAY_IMAGE_LABELS = { [Labels.managed]: 'true', [Labels.role]: 'gateway-image' } as const;
/**
 * How long a gateway image is kept after it was built or last claimed (tagged again by a daemon that uses it), even
 * when no container uses it: a daemon creates its gateway seconds after it built or found the image, and between the
 * two no container holds it. Ten minutes leaves a wide margin, and a stale image still goes within one more period.
 */
export const DEFAULT_GRACE_MS = 10 * 60_000;

/**
 * CMESH_GATEWAY_IMAGE_GC: unset or `on` cleans up every stale gateway image; `off` none; `<label>=<value>` only those
 * that also carry that label (an engine shared by several cmesh installs, such as a test machine, limits it so).
 */
export function gatewayImageGc(env: NodeJS.ProcessEnv): Record<string, string> | undefined {
  const v = env['CMESH_GATEWAY_IMAGE_GC']?.trim() ?? '';
  if (v === '' || v === 'on') return {};
  if (v === 'off') return undefined;
  const eq = v.indexOf('=');
  if (eq <= 0) {
    throw new CmeshError('CMESH_E_CONFIG', `CMESH_GATEWAY_IMAGE_GC=${v} is not on, off or <label>=<value>`, {
      hint: 'unset it (clean up every stale gateway image), or set it to off or to a label the images must carry',
    });
  }
  return { [v.slice(0, eq)]: v.slice(eq + 1) };
}

/** CMESH_GATEWAY_IMAGE_GRACE: a Go duration (`10m`, `0s`); unset: DEFAULT_GRACE_MS. */
export function gatewayImageGrace(env: NodeJS.ProcessEnv): number {
  const v = env['CMESH_GATEWAY_IMAGE_GRACE']?.trim() ?? '';
  if (v === '') return DEFAULT_GRACE_MS;
  const ms = parseDuration(v);
  if (ms === undefined) {
    throw new CmeshError('CMESH_E_CONFIG', `CMESH_GATEWAY_IMAGE_GRACE=${v} is not a duration`, { hint: 'unset it (10m), or set it to a duration such as 30m or 0s' });
  }
  return ms;
}

/** Whether a container (any state) was made from `image`: by its id (which stays when the tag is removed), or a tag. */
function usedBy(image: ImageSummary, c: ContainerInfo): boolean {
  return c.imageId === image.id || c.image === image.id || image.tags.includes(withLatestTag(c.image));
}

export interface GcOptions {
  /** Where the cleanup says what it removed, kept young, or could not remove. */
  log?: (line: string) => void;
  /** Extra labels an image must carry too (CMESH_GATEWAY_IMAGE_GC=<label>=<value>). */
  scope?: Record<string, string>;
  graceMs?: number;
  now?: () => number;
}

export interface GcResult {
  /** Tags removed. */
  removed: string[];
  /** When the youngest image kept for its age may go (ms): a later sweep then. Undefined: none kept for its age. */
  retryAt?: number;
}

/**
 * Removes the gateway images of other cmesh versions: labelled dev.cmesh.role=gateway-image, tagged cmesh/gateway:*,
 * not `current`, that no container of any state uses (listed, not left to the engine: it untags an image that has
 * another tag whoever uses it, and not every engine refuses a stopped container's image), and that were neither built
 * nor claimed within the grace period. Never forced. An image without the label is never listed. Never throws.
 */
export async function removeStaleGatewayImages(engine: ContainerEngine, current: string, o: GcOptions = {}): Promise<GcResult> {
  const log = o.log ?? (() => undefined);
  const now = o.now ?? Date.now;
  const grace = o.graceMs ?? DEFAULT_GRACE_MS;
  const removed: string[] = [];
  const kept: string[] = [];
  let retryAt: number | undefined;
  const keepUntil = (tags: string[], at: number) => {
    kept.push(...tags);
    retryAt = retryAt === undefined ? at : Math.min(retryAt, at);
  };
  try {
    const images = await engine.listImages({ ...o.scope, ...GATEWAY_IMAGE_LABELS });
    const candidates = images.filter((i) => !i.tags.includes(current) && i.tags.some((t) => t.startsWith(`${GATEWAY_REPO}:`)));
    // Every container on the engine, any state, any label: another daemon's, a user's `docker create`.
    const containers = candidates.length === 0 ? [] : await engine.listContainers({ labels: {}, all: true });
    for (const listed of candidates) {
      if (containers.some((c) => usedBy(listed, c))) continue;
      const ours = listed.tags.filter((t) => t.startsWith(`${GATEWAY_REPO}:`));
      if (listed.created !== undefined && now() - listed.created < grace) {
        keepUntil(ours, listed.created + grace);
        continue;
      }
      // Looked at again just before the removal: a daemon that claimed it (tagged it again) since the list keeps it.
      const image = await engine.inspectImage(listed.id);
      if (!image) continue;
      const since = Math.max(image.created ?? 0, image.lastTagTime ?? 0);
      if (now() - since < grace) {
        keepUntil(ours, since + grace);
        continue;
      }
      for (const tag of ours) {
        try {
          await engine.removeImage(tag);
          removed.push(tag);
        } catch (err) {
          // A container made from it since the list: the engine refuses, and it stays.
          const inUse = err instanceof CmeshError && err.details['reason'] === 'in-use';
          if (!inUse) log(`gateway image cleanup: cannot remove ${tag}: ${(err as Error).message}`);
        }
      }
    }
  } catch (err) {
    log(`gateway image cleanup: cannot list images or containers: ${(err as Error).message}`);
  }
  if (removed.length > 0) log(`gateway image cleanup: removed ${removed.join(', ')} (not used by any container)`);
  if (retryAt !== undefined) {
    log(`gateway image cleanup: kept ${kept.join(', ')} (built or claimed by a daemon less than ${Math.round(grace / 1000)} s ago; looked at again then)`);
  }
  return { removed, ...(retryAt === undefined ? {} : { retryAt }) };
}

/**
 * Marks the image as used by this daemon: tags it again with the tag it has, which refreshes its lastTagTime, so
 * another daemon's cleanup keeps it for the grace period (this daemon's gateway container holds it after that). Only
 * when the last claim is older than half the period: about one engine call per five minutes, not one per look-up.
 * Never throws (a failed claim costs at worst a rebuild).
 */
export async function claimGatewayImage(
  engine: ContainerEngine,
  tag: string,
  image: { lastTagTime?: number; created?: number },
  o: { graceMs?: number; now?: () => number; log?: (line: string) => void } = {},
): Promise<boolean> {
  const grace = o.graceMs ?? DEFAULT_GRACE_MS;
  const since = Math.max(image.created ?? 0, image.lastTagTime ?? 0);
  if (grace === 0 || (o.now ?? Date.now)() - since < grace / 2) return false;
  try {
    await engine.tagImage(tag, tag);
    return true;
  } catch (err) {
    o.log?.(`gateway image: cannot claim ${tag}: ${(err as Error).message}`);
    return false;
  }
}
