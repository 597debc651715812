// The east-west gateway's image, built locally (no registry) through the engine's build API: FROM scratch with the
// host's node binary and the shared libraries it links against (as scripts/build-base-images.sh makes cmesh/node:local),
// plus esbuild bundles of the frozen init (mesh/gateway/init.ts, the entry) and of the supervisor (its fallback). The
// supervisor and the proxy the gateway runs are modules the daemon puts next to the control socket
// (gateway-worker.ts), so a new cmesh version swaps the code, not the container. The tag is content-addressed, so an
// unchanged node, init and supervisor reuse it; the identity (what a kept container must share) leaves out the node,
// its libraries and the supervisor: the image's node and libraries run only init, the workers run on a runtime the
// daemon delivers (gateway-runtime.ts).
//
// Where the host's node is not a Linux binary (Docker Desktop on macOS), CMESH_GATEWAY_BASE_IMAGE names a local image
// with a Linux `node` on its PATH (e.g. one built from the official node image on that machine): only init and the
// supervisor bundles are added on top of it.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import type { ContainerEngine } from './api/engine.ts';
import { CmeshError } from './api/errors.ts';
import { fileDigest } from './file-digest.ts';
import { GATEWAY_BUNDLES, gatewayBundle } from './gateway-bundle.ts';
import { claimGatewayImage, GATEWAY_IMAGE_LABELS, GATEWAY_REPO, gatewayImageGrace } from './gateway-image-gc.ts';
import { cachedTag, type ContextFile, fromDisk, inputKey } from './gateway-image-tag-cache.ts';
import { libraryFile, linkedObjects } from './gateway-runtime.ts';
import { supervisorBundle } from './gateway-worker.ts';
import { INIT_IDENTITY_PREFIX, RUNTIME_IDENTITY_PREFIX } from './reconcile/plan-gateway-live.ts';

export { GATEWAY_REPO } from './gateway-image-gc.ts';
/** The gateway image's entry, bundled as it is (gateway-image-init.test.ts pins it and its bundle). */
export const INIT_ENTRY = GATEWAY_BUNDLES['gateway-init']!;
/** Bump when the image layout changes on purpose (it changes the identity: every gateway is recreated stop-first). */
const LAYOUT = 3;
/** The entry: init, frozen (gateway-image-init.test.ts pins its content). */
const INIT_PATH = '/gateway/init.mjs';
/** Init's fallback supervisor module, beside it (init.ts looks for `supervisor.mjs` next to itself). */
const SUPERVISOR_PATH = '/gateway/supervisor.mjs';
/**
 * What the identity covers: the Dockerfile (the layout, and the base image's name), init, and the small files cmesh
 * writes. Not the host's node and libraries (a running gateway's workers run on a runtime directory delivered to
 * /run/cmesh, gateway-runtime.ts; init is tiny and frozen, and runs on what its image holds) nor the supervisor
 * (delivered too, gateway-worker.ts).
 */
const IDENTITY_FILES = new Set(['Dockerfile', `rootfs${INIT_PATH}`, 'rootfs/etc/nsswitch.conf', 'rootfs/etc/cmesh-gateway-salt']);
const NODE_PATH = '/usr/local/bin/node';
/** Read size of the context's files from disk: a few chunks in flight, whatever the file's size. */
const DISK_CHUNK = 1 << 20;
/** How much of the context may wait for the engine's socket. */
const CONTEXT_AHEAD = 8 << 20;
/** glibc reads this for getaddrinfo; without it Docker DNS names might not be looked up the usual way. */
const NSSWITCH = 'hosts: files dns\n';

/** Absolute paths of the shared objects `node` links against, with the dynamic loader (vdso has no path). */
export async function linkedLibraries(nodeBin: string): Promise<string[]> {
  const { loader, libs } = await linkedObjects(nodeBin);
  return [...(loader ? [loader] : []), ...libs].sort();
}

/**
 * The build context's files, Dockerfile first; deterministic (sorted, fixed modes, no mtimes in the hash). The host's
 * node and libraries are ~100 MB: held as Buffers only to hash them, they stayed resident as garbage until V8's next
 * full GC (an idle daemon's RSS 177 → 83 MiB after one, bench/RESULTS.md), so they are read by path.
 */
async function contextFiles(bundles: { init: Buffer; supervisor: Buffer }, base: string | undefined, env: NodeJS.ProcessEnv): Promise<ContextFile[]> {
  const salt = env['CMESH_GATEWAY_IMAGE_SALT'] || undefined;
  const files: ContextFile[] = [];
  const gateway: ContextFile[] = [
    { name: `rootfs${INIT_PATH}`, data: bundles.init, mode: 0o644 },
    { name: `rootfs${SUPERVISOR_PATH}`, data: bundles.supervisor, mode: 0o644 },
  ];
  if (base !== undefined) {
    files.push(...gateway);
    const dockerfile = `FROM ${base}\nCOPY rootfs/ /\nENTRYPOINT ["node", "${INIT_PATH}"]\n`;
    return [{ name: 'Dockerfile', data: Buffer.from(dockerfile), mode: 0o644 }, ...files];
  }
  // CMESH_GATEWAY_NODE: another node binary (a test's stand-in for a host upgrade; gateway-runtime.ts hands it to workers).
  const node = await realpath(env['CMESH_GATEWAY_NODE'] || process.execPath);
  let libs: string[];
  try {
    libs = await linkedLibraries(node);
  } catch (err) {
    throw new CmeshError('CMESH_E_BUILD_FAILED', `cannot list the libraries of ${node} for the east-west gateway image: ${(err as Error).message}`, {
      hint: 'on a host whose node is not a Linux binary, set CMESH_GATEWAY_BASE_IMAGE to a local image with a Linux node on its PATH',
      cause: err,
    });
  }
  files.push(await fromDisk(`rootfs${NODE_PATH}`, node));
  // The host's merged /usr makes /lib and /lib64 symlinks; the image gets real files at the paths ldd printed.
  for (const lib of libs) files.push(await fromDisk(`rootfs${lib}`, await libraryFile(lib, env)));
  files.push(...gateway);
  files.push({ name: 'rootfs/etc/nsswitch.conf', data: Buffer.from(NSSWITCH), mode: 0o644 });
  // A different image with the same contents: a bench or test times a first build on a machine that has the image.
  if (salt) files.push({ name: 'rootfs/etc/cmesh-gateway-salt', data: Buffer.from(`${salt}\n`), mode: 0o644 });
  const dockerfile = `FROM scratch\nCOPY rootfs/ /\nENV NODE_ENV=production\nENTRYPOINT ["${NODE_PATH}", "${INIT_PATH}"]\n`;
  return [{ name: 'Dockerfile', data: Buffer.from(dockerfile), mode: 0o644 }, ...files.sort((a, b) => a.name.localeCompare(b.name))];
}

/** Hashes what the image is made of; files on disk go through the hash one reused chunk at a time, never held whole. */
export async function contentTag(files: ContextFile[], baseId: string | undefined): Promise<string> {
  const h = createHash('sha256').update(`cmesh-gateway layout=${LAYOUT} base=${baseId ?? 'scratch'}\n`);
  for (const f of files) {
    h.update(`\0${f.name}\0${f.mode}\0${'data' in f ? f.data.length : f.size}\0`);
    // Each file by its digest, so the host's node is read once per process (file-digest.ts), not once per hash.
    h.update('data' in f ? createHash('sha256').update(f.data).digest() : await fileDigest(f.path));
  }
  return `${GATEWAY_REPO}:${h.digest('hex').slice(0, 16)}`;
}

/**
 * The build context; files on disk are read only now, when the image has to be built, and streamed: each goes into
 * the tar as the engine takes it, never whole. Read whole (~100 MB of node and libraries), they sat in the daemon's
 * RSS as garbage until V8's next full GC: bench/up.ts's (c) read 182 MB after a run that built the image.
 */
function tarOf(files: ContextFile[]): Readable {
  const p = pack();
  const fill = async (): Promise<void> => {
    for (const f of files) {
      const header = { name: f.name, mode: f.mode, mtime: new Date(0), uid: 0, gid: 0 };
      if ('data' in f) {
        p.entry(header, f.data);
        continue;
      }
      // tar-stream checks the bytes against `size`: a file that changed since it was hashed fails the build.
      const entry = p.entry({ ...header, size: f.size });
      await pipeline(createReadStream(f.path, { highWaterMark: DISK_CHUNK }), entry as unknown as NodeJS.WritableStream);
    }
    p.finalize();
  };
  fill().catch((err: unknown) => p.destroy(err as Error));
  // tar-stream's Pack is a streamx stream: node's Readable wraps it for the engine port, a few chunks ahead of the
  // engine's socket (one at a time, each waited for, made a cold build ~2x slower).
  return Readable.from(p as unknown as AsyncIterable<Buffer>, { objectMode: false, highWaterMark: CONTEXT_AHEAD });
}

export interface GatewayImageOptions {
  engine: ContainerEngine;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Where image garbage collection says what it removed or could not. */
  log?: (line: string) => void;
  /** A JSON file (in CMESH_HOME) that keeps the content tag until an input changes (gateway-image-tag-cache.ts). */
  tagCache?: string;
}

/** The gateway image's tag and the build context it is made from (read from disk only if it has to be built). */
export interface GatewayImageInputs {
  tag: string;
  files: ContextFile[];
  /**
   * What a running gateway container must share with the image to be kept (`init:rt:<hash>`): init and the layout
   * (with CMESH_GATEWAY_BASE_IMAGE, `init:<hash>`, and the base image, whose node is not the host's). Not the host's
   * node, its libraries nor the supervisor: a running gateway gets them in /run/cmesh (gateway-runtime.ts,
   * gateway-worker.ts).
   */
  identity: string;
  /** The image holds the host's node and its libraries (FROM scratch): the host's node can run in it. */
  hostNode: boolean;
}

/** The image's content tag, without looking at the engine's images: milliseconds with the tag cache. */
export async function gatewayImageInputs(o: GatewayImageOptions): Promise<GatewayImageInputs> {
  const env = o.env ?? process.env;
  // The first caller of a daemon's life: it starts the one child that builds every stale gateway bundle.
  const built = await gatewayBundle('gateway-init', env, o.log);
  if (built.error !== undefined) {
    throw new CmeshError('CMESH_E_BUILD_FAILED', `cannot bundle the east-west gateway init: ${built.error}`, { hint: 'this is a bug in cmesh if the sources are unchanged' });
  }
  // The image's supervisor is never salted: a salt stands for a new supervisor delivered to a running gateway.
  const bundles = { init: await readFile(built.path), supervisor: (await supervisorBundle(env, false)).data };
  const base = env['CMESH_GATEWAY_BASE_IMAGE'] || undefined;
  let baseId: string | undefined;
  if (base !== undefined) {
    const info = await o.engine.inspectImage(base);
    if (!info) throw new CmeshError('CMESH_E_IMAGE_MISSING', `CMESH_GATEWAY_BASE_IMAGE=${base} is not a local image`, { hint: 'build or load an image with a Linux node on its PATH, then tag it' });
    baseId = info.id;
  } else if (process.platform !== 'linux') {
    throw new CmeshError('CMESH_E_CONFIG', `the host's node (${process.platform}) cannot run in a Linux container`, {
      hint: 'set CMESH_GATEWAY_BASE_IMAGE to a local image with a Linux node on its PATH (README: East-west)',
    });
  }
  const files = await contextFiles(bundles, base, env);
  const hash = () => contentTag(files, baseId);
  const tag = o.tagCache === undefined ? await hash() : await cachedTag(o.tagCache, inputKey(files, baseId), hash, o.log);
  return { tag, files, identity: await identityOf(files, baseId), hostNode: base === undefined };
}

/**
 * The identity of an image made of `files`: init, the layout and the base image (IDENTITY_FILES). A host-node image's
 * starts `init:rt:` (its workers run on a delivered runtime); a gateway made when the identity also covered the
 * libraries (`init:<hash>`) is recreated once (plan-gateway.ts). With a base image, whose node runs the workers, it is
 * `init:<hash>` as before: the same files, the same identity.
 */
export async function identityOf(files: ContextFile[], baseId: string | undefined): Promise<string> {
  const kept = files.filter((f) => IDENTITY_FILES.has(f.name));
  const prefix = baseId === undefined ? RUNTIME_IDENTITY_PREFIX : INIT_IDENTITY_PREFIX;
  return `${prefix}${(await contentTag(kept, baseId)).slice(GATEWAY_REPO.length + 1)}`;
}

/** The prefix of ensureImageOf's log lines about a build (bench/up-daemon-builds.ts looks for it). */
export const IMAGE_LOG = 'east-west gateway image:';

/** Builds the image from its inputs when the engine lacks it; resolves to its tag once the engine has it. */
export async function ensureImageOf(o: GatewayImageOptions, inputs: GatewayImageInputs): Promise<string> {
  const { tag, files } = inputs;
  const found = await o.engine.inspectImage(tag);
  if (found) {
    // Another cmesh version's cleanup keeps an image claimed within its grace period: this daemon's gateway is about
    // to be made from it (gateway-image-gc.ts).
    const graceMs = gatewayImageGrace(o.env ?? process.env);
    await claimGatewayImage(o.engine, tag, found, { graceMs, ...(o.log ? { log: o.log } : {}) });
    return tag;
  }
  const labels = { ...GATEWAY_IMAGE_LABELS };
  // Said in the daemon's log: a daemon that built its image holds more RSS after it (bench/up.ts reports it).
  const started = Date.now();
  o.log?.(`${IMAGE_LOG} building ${tag} (the engine lacks it)`);
  try {
    for await (const p of o.engine.buildImage({ context: tarOf(files), dockerfile: 'Dockerfile', tags: [tag], labels, ...(o.signal ? { signal: o.signal } : {}) })) {
      if (p.kind === 'done') {
        o.log?.(`${IMAGE_LOG} built ${tag} in ${Date.now() - started} ms`);
        return tag;
      }
    }
  } finally {
    // Once the call has let go of the stream (a turn later), not at V8's next full GC: see collectContextGarbage.
    setImmediate(collectContextGarbage);
  }
  throw new CmeshError('CMESH_E_BUILD_FAILED', `the east-west gateway image build of ${tag} ended without an image`);
}

/**
 * The context's ~100 MB went through the daemon as 1 MiB Buffers, which V8 frees only at its next full GC: until
 * then ~28 MB of them stayed in glibc's heap (bench/up.ts (c) read 104 MB, 25 s after a build; bench/RESULTS.md, rss
 * session 13). One full GC after a build (once per cmesh or node version) frees them at once. `gc` is there when the
 * daemon runs with DAEMON_V8_FLAGS (`--expose-gc`); without it (tsx, other flags) nothing happens.
 */
export function collectContextGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * The gateway image's tag, building it when the engine lacks it. Images are kept like a cache (not removed by `down`):
 * they are shared by every project of this cmesh version, and a concurrent `up` of another project may be using it.
 */
export async function ensureGatewayImage(o: GatewayImageOptions): Promise<string> {
  return ensureImageOf(o, await gatewayImageInputs(o));
}
