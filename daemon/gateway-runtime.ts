// The host's node binary for a running gateway's next worker: a new node (a host upgrade) reaches the gateway as a
// file in its directory (bind-mounted at /run/cmesh), not as a new image and container. Content-addressed
// (`node-<hash>`), so a worker can tell it from the one it runs on; the image's own loader and libraries run it, which
// is why the gateway's identity (gateway-image.ts) still covers the libraries: when they change, the gateway is
// recreated as before.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, link, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { cachedTag, fromDisk, inputKey } from './gateway-image-tag-cache.ts';

export interface GatewayRuntime {
  /** `node-<16 hex>`: the file's name in each gateway directory. */
  name: string;
  /** The host's node binary it is taken from. */
  path: string;
}

const RUNTIME_NAME = /^node-[0-9a-f]{16}$/;

/**
 * The node a gateway's worker should run on: the daemon's own (resolved through symlinks). CMESH_GATEWAY_NODE names
 * another binary: a test hands a gateway a "new node" (a copy with a different hash) as a host upgrade would. The
 * hash of ~100 MB is kept in `cacheFile` until the file's stat changes (as the image's tag is).
 */
export async function hostRuntime(env: NodeJS.ProcessEnv = process.env, cacheFile?: string): Promise<GatewayRuntime> {
  const path = await realpath(env['CMESH_GATEWAY_NODE'] || process.execPath);
  const hash = async (): Promise<string> => {
    const h = createHash('sha256');
    for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
    return `node-${h.digest('hex').slice(0, 16)}`;
  };
  const name = cacheFile === undefined ? await hash() : await cachedTag(cacheFile, inputKey([await fromDisk('node', path)], 'runtime'), hash);
  return { name, path };
}

/**
 * Puts the runtime in a gateway directory once: a hard link when it is on the host node's filesystem (no copy of
 * ~100 MB per project), else a copy; under a temporary name, renamed into place, so a supervisor never starts a half
 * written binary.
 */
export async function installRuntime(dir: string, runtime: GatewayRuntime): Promise<void> {
  const dest = join(dir, runtime.name);
  if (await stat(dest).catch(() => undefined)) return;
  const tmp = `${dest}.${process.pid}.tmp`;
  await rm(tmp, { force: true });
  try {
    await link(runtime.path, tmp);
  } catch {
    // Another filesystem (EXDEV), or a binary the daemon may not link (protected_hardlinks): copy it.
    await copyFile(runtime.path, tmp);
    await chmod(tmp, 0o755);
  }
  await rename(tmp, dest);
}

/**
 * Removes the runtimes in a gateway directory that are not in `keep` (the current one, and the one before it for a
 * worker that has not been swapped yet and may be respawned on it). A process already running on a removed file is
 * not affected (it holds the inode). Returns the names removed.
 */
export async function pruneRuntimes(dir: string, keep: ReadonlyArray<string | undefined>): Promise<string[]> {
  const stale = (await readdir(dir)).filter((f) => RUNTIME_NAME.test(f) && !keep.includes(f));
  for (const f of stale) await rm(join(dir, f), { force: true });
  return stale;
}
