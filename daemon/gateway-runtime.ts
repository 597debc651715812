// The host's node for a running gateway's next worker, self-contained: a directory `runtime-<hash>/` in the gateway's
// directory (bind-mounted at /run/cmesh) with node, the dynamic loader it names and the libraries `ldd` lists
// (mesh/gateway/supervisor-runtime.ts: the layout, and how the supervisor runs a worker through that loader). A new
// node or new host libraries (a libc or openssl update) reach the gateway as a new directory, not as a new image and
// container: the image's own node and libraries only run init (gateway-image.ts leaves them out of the identity).
// Content-addressed over all its files, so a worker can tell a new runtime from the one it runs on.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, link, mkdir, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { RUNTIME_LIBS, RUNTIME_LOADER, RUNTIME_NODE } from '../mesh/gateway/supervisor-runtime.ts';
import { CmeshError } from './api/errors.ts';
import { fileDigest } from './file-digest.ts';
import { cachedTag, fromDisk, inputKey } from './gateway-image-tag-cache.ts';

export interface GatewayRuntime {
  /** `runtime-<16 hex>`: the directory's name in each gateway directory. */
  name: string;
  /** Its files: the name inside the directory → the host's file it is taken from. */
  files: ReadonlyArray<{ name: string; path: string }>;
}

/** Runtime directories, and the `node-<hash>` binaries an older cmesh delivered (pruned alike). */
const RUNTIME_NAME = /^(runtime|node)-[0-9a-f]{16}$/;

type Linked = { loader: string | undefined; libs: string[] };

/**
 * One `ldd` per binary as it stands (path, inode, size, mtime): the gateway image's context and the runtime directory
 * both ask at a daemon's start. Only the paths are remembered; the files' bytes are read (and digested) by the callers.
 */
const lddMemo = new Map<string, Promise<Linked>>();

/** What `ldd` lists for a binary: the loader (the line without `=>`) and the other shared objects (vdso has no path). */
export async function linkedObjects(bin: string): Promise<Linked> {
  const s = await stat(bin);
  const key = `${bin}\0${s.ino}\0${s.size}\0${s.mtimeMs}`;
  const hit = lddMemo.get(key);
  if (hit) return hit;
  const run = runLdd(bin);
  lddMemo.set(key, run);
  run.catch(() => lddMemo.delete(key));
  return run;
}

async function runLdd(bin: string): Promise<Linked> {
  const { stdout } = await promisify(execFile)('ldd', [bin]);
  let loader: string | undefined;
  const libs = new Set<string>();
  for (const line of stdout.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0]?.startsWith('/')) loader = words[0];
    else if (words[1] === '=>' && words[2]?.startsWith('/')) libs.add(words[2]);
  }
  // musl's loader is its libc too: it is the loader only.
  if (loader) libs.delete(loader);
  return { loader, libs: [...libs].sort() };
}

/**
 * The file that stands for the host library `lib`: itself, or the file of the same name in the directory
 * CMESH_GATEWAY_LIBS names, with which a test hands the daemon "new host libraries" (copies with bytes appended) as
 * a host update would (the gateway image takes them too).
 */
export async function libraryFile(lib: string, env: NodeJS.ProcessEnv): Promise<string> {
  const override = env['CMESH_GATEWAY_LIBS'] || undefined;
  const stand = override === undefined ? undefined : join(override, basename(lib));
  return stand !== undefined && (await stat(stand).catch(() => undefined)) ? stand : lib;
}

/** The runtime of `node`: node, its loader, its libraries (libraryFile's), each resolved through symlinks. */
async function runtimeFiles(node: string, env: NodeJS.ProcessEnv): Promise<{ name: string; path: string }[]> {
  let linked: Awaited<ReturnType<typeof linkedObjects>>;
  try {
    linked = await linkedObjects(node);
  } catch (err) {
    throw new CmeshError('CMESH_E_BUILD_FAILED', `cannot list the libraries of ${node} for the east-west gateway: ${(err as Error).message}`, { cause: err });
  }
  if (!linked.loader) throw new CmeshError('CMESH_E_BUILD_FAILED', `${node} names no dynamic loader (ldd): the east-west gateway's workers cannot run on it`);
  // Resolved: link(2) does not follow a symlink (the loader's usual /lib64 path is one), it would link the symlink.
  const files = [{ name: RUNTIME_NODE, path: node }, { name: RUNTIME_LOADER, path: await realpath(linked.loader) }];
  for (const lib of linked.libs) {
    const name = `${RUNTIME_LIBS}/${basename(lib)}`;
    if (files.some((f) => f.name === name)) throw new CmeshError('CMESH_E_BUILD_FAILED', `${node} links two libraries named ${basename(lib)}`);
    files.push({ name, path: await realpath(await libraryFile(lib, env)) });
  }
  return files;
}

/**
 * The runtime a gateway's workers should run on: the daemon's own node (resolved through symlinks), with its loader
 * and libraries. CMESH_GATEWAY_NODE names another binary: a test hands a gateway a "new node" (a copy with a
 * different hash) as a host upgrade would. The hash of ~100 MB is kept in `cacheFile` until a file's stat changes (as
 * the image's tag is).
 */
export async function hostRuntime(env: NodeJS.ProcessEnv = process.env, cacheFile?: string): Promise<GatewayRuntime> {
  const files = await runtimeFiles(await realpath(env['CMESH_GATEWAY_NODE'] || process.execPath), env);
  // The process's memo (file-digest.ts): the gateway image's tag has usually just read the same files.
  const hash = async (): Promise<string> => {
    const h = createHash('sha256').update('cmesh-gateway-runtime 1\n');
    for (const f of files) h.update(`\0${f.name}\0`).update(await fileDigest(f.path));
    return `runtime-${h.digest('hex').slice(0, 16)}`;
  };
  const key = async () => inputKey(await Promise.all(files.map((f) => fromDisk(f.name, f.path))), 'runtime-dir');
  const name = cacheFile === undefined ? await hash() : await cachedTag(cacheFile, await key(), hash);
  return { name, files };
}

/**
 * Puts the runtime in a gateway directory once, its files hard links of one entry per runtime in `shared` (under
 * CMESH_HOME, beside the gateway directories): that entry's files are hard links of the host's files when on their
 * filesystem, else their one copy, so ~100 MB are copied once per runtime, not once per project. Linking a host file
 * also changes its ctime, which the tag caches key on (gateway-image-tag-cache.ts): once per runtime this way, not
 * once per project. Copies only where the filesystem takes no hard links. Always made under a temporary name and
 * renamed into place, so a supervisor never starts on a half written runtime.
 */
export async function installRuntime(dir: string, runtime: GatewayRuntime, shared: string): Promise<void> {
  const dest = join(dir, runtime.name);
  if (await stat(dest).catch(() => undefined)) return;
  const source = await sharedRuntime(shared, runtime);
  await placeDirectory(dest, runtime.files.map((f) => ({ name: f.name, path: join(source, f.name) })));
}

/** Makes `dest` holding `files` (links, else copies) under a temporary name, then renames it into place. */
async function placeDirectory(dest: string, files: ReadonlyArray<{ name: string; path: string }>): Promise<void> {
  const tmp = `${dest}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(join(tmp, RUNTIME_LIBS), { recursive: true });
  for (const f of files) if (!(await linkOrFalse(f.path, join(tmp, f.name)))) await copyExecutable(f.path, join(tmp, f.name));
  try {
    await rename(tmp, dest);
  } catch (err) {
    // Made meanwhile by another daemon on the same home: theirs is the same content.
    await rm(tmp, { recursive: true, force: true });
    if (!(await stat(dest).catch(() => undefined))) throw err;
  }
}

/** False where the link is refused (EXDEV, protected_hardlinks). */
async function linkOrFalse(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch {
    return false;
  }
}

async function copyExecutable(from: string, to: string): Promise<void> {
  await copyFile(from, to);
  await chmod(to, 0o755);
}

/**
 * The runtime's entry in `shared`, made on first need (links of the host's files, else copies); an older runtime's
 * entry there is removed then (each gateway directory holds its own links, so a running worker keeps its files).
 */
async function sharedRuntime(shared: string, runtime: GatewayRuntime): Promise<string> {
  const path = join(shared, runtime.name);
  if (await stat(path).catch(() => undefined)) return path;
  await mkdir(shared, { recursive: true });
  await placeDirectory(path, runtime.files);
  await pruneRuntimes(shared, [runtime.name]);
  return path;
}

/**
 * Removes the runtimes in a gateway directory that are not in `keep` (the current one, and the one before it for a
 * worker that has not been swapped yet and may be respawned on it). A process already running on a removed file is
 * not affected (it holds the inodes it mapped). Returns the names removed.
 */
export async function pruneRuntimes(dir: string, keep: ReadonlyArray<string | undefined>): Promise<string[]> {
  const stale = (await readdir(dir)).filter((f) => RUNTIME_NAME.test(f) && !keep.includes(f));
  for (const f of stale) await rm(join(dir, f), { recursive: true, force: true });
  return stale;
}
