// The host's node binary for a running gateway's next worker: a new node (a host upgrade) reaches the gateway as a
// file in its directory (bind-mounted at /run/cmesh), not as a new image and container. Content-addressed
// (`node-<hash>`), so a worker can tell it from the one it runs on; the image's own loader and libraries run it, which
// is why the gateway's identity (gateway-image.ts) still covers the libraries: when they change, the gateway is
// recreated as before.

import { chmod, copyFile, link, mkdir, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileDigest } from './file-digest.ts';
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
  // The process's memo (file-digest.ts): the gateway image's tag has usually just read the same file.
  const hash = async (): Promise<string> => `node-${(await fileDigest(path)).toString('hex').slice(0, 16)}`;
  const name = cacheFile === undefined ? await hash() : await cachedTag(cacheFile, inputKey([await fromDisk('node', path)], 'runtime'), hash);
  return { name, path };
}

/**
 * Puts the runtime in a gateway directory once, as a hard link of one entry per node version in `shared` (under
 * CMESH_HOME, beside the gateway directories): that entry is a hard link of the host's node when on its filesystem,
 * else its one copy, so ~100 MB are copied once per node version, not once per project. Linking the host's node also
 * changes its ctime, which the tag caches key on (gateway-image-tag-cache.ts): once per node version this way, not once
 * per project. A plain copy only where the filesystem takes no hard links. Always under a temporary name, renamed into
 * place, so a supervisor never starts a half written binary.
 */
export async function installRuntime(dir: string, runtime: GatewayRuntime, shared: string): Promise<void> {
  const dest = join(dir, runtime.name);
  if (await stat(dest).catch(() => undefined)) return;
  const source = await sharedRuntime(shared, runtime);
  if (!(await linkInto(source, dest))) await copyInto(source, dest);
}

/** Hard-links `from` to `dest` through a temporary name; false where the link is refused (EXDEV, protected_hardlinks). */
async function linkInto(from: string, dest: string): Promise<boolean> {
  const tmp = `${dest}.${process.pid}.tmp`;
  await rm(tmp, { force: true });
  try {
    await link(from, tmp);
  } catch {
    return false;
  }
  await rename(tmp, dest);
  return true;
}

async function copyInto(from: string, dest: string): Promise<void> {
  const tmp = `${dest}.${process.pid}.tmp`;
  await copyFile(from, tmp);
  await chmod(tmp, 0o755);
  await rename(tmp, dest);
}

/**
 * The runtime's entry in `shared`, made on first need (a link of the host's node, else a copy); an older version's
 * entry there is removed then (each gateway directory holds its own link, so a running worker keeps its binary).
 */
async function sharedRuntime(shared: string, runtime: GatewayRuntime): Promise<string> {
  const path = join(shared, runtime.name);
  if (await stat(path).catch(() => undefined)) return path;
  await mkdir(shared, { recursive: true });
  if (!(await linkInto(runtime.path, path))) await copyInto(runtime.path, path);
  await pruneRuntimes(shared, [runtime.name]);
  return path;
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
