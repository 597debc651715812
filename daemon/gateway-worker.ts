// The gateway's proxy code as a worker bundle outside its image: the container runs a stable supervisor
// (mesh/gateway/supervisor.ts) and the proxy in a worker forked from `worker-<hash>.mjs` in the project's gateway
// directory (bind-mounted at /run/cmesh). A new cmesh version writes a new bundle and names it in the table; the
// worker asks its supervisor to swap, so the container and its address stay (README: East-west).

import { createHash } from 'node:crypto';
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDirs, ensureBundle } from '../bin/bundle-cache.mjs';
import { GATEWAY_WORKER_POINTER } from './api/east-west.ts';
import { CmeshError } from './api/errors.ts';
import { pruneRuntimes } from './gateway-runtime.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Bundles kept per directory: the current one and two before it (a worker respawned mid-swap still finds its file). */
const KEEP = 3;

export interface WorkerBundle {
  /** `worker-<hash>.mjs`: content-addressed, so a running worker can tell a new one from its own. */
  name: string;
  data: Buffer;
}

/**
 * The worker bundle of this cmesh (esbuild of mesh/gateway/main.ts). CMESH_GATEWAY_WORKER_SALT adds a comment to it:
 * a different bundle with the same code, so a test can swap a running gateway's worker as an upgrade would.
 */
export async function workerBundle(env: NodeJS.ProcessEnv = process.env): Promise<WorkerBundle> {
  const built = await ensureBundle(ROOT, 'gateway', 'mesh/gateway/main.ts', cacheDirs(ROOT, env), { warn: () => undefined });
  if (built.error !== undefined) {
    throw new CmeshError('CMESH_E_BUILD_FAILED', `cannot bundle the east-west gateway: ${built.error}`, { hint: 'this is a bug in cmesh if the sources are unchanged' });
  }
  let data = await readFile(built.path);
  const salt = env['CMESH_GATEWAY_WORKER_SALT'];
  if (salt) data = Buffer.concat([data, Buffer.from(`\n// salt: ${JSON.stringify(salt)}\n`)]);
  return { name: `worker-${createHash('sha256').update(data).digest('hex').slice(0, 16)}.mjs`, data };
}

const writeAtomic = async (path: string, data: Buffer | string): Promise<void> => {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode: 0o644 });
  await rename(tmp, path);
};

/** What worker.json holds: the bundle, the node it runs on (none: the image's), and the node before it. */
interface Pointer {
  file: string;
  runtime?: string;
  previous?: string;
}

/**
 * The bundle's name in a gateway directory: its own, or (with a runtime) one that also covers the runtime, so a new
 * host node alone gives the table a new worker to ask for, as a new cmesh does.
 */
export function workerName(bundle: WorkerBundle, runtime?: string): string {
  if (runtime === undefined) return bundle.name;
  return `worker-${createHash('sha256').update(`${bundle.name}\0${runtime}`).digest('hex').slice(0, 16)}.mjs`;
}

/**
 * Puts the bundle in the gateway directory (once) and points the supervisor's start at it and at `runtime` (a
 * `node-<hash>` already in the directory, gateway-runtime.ts); prunes old bundles and runtimes. Returns the bundle's
 * name there (the table names it).
 */
export async function installWorker(dir: string, bundle: WorkerBundle, runtime?: string): Promise<string> {
  const name = workerName(bundle, runtime);
  const path = join(dir, name);
  if (!(await stat(path).catch(() => undefined))) await writeAtomic(path, bundle.data);
  const old = await readFile(join(dir, GATEWAY_WORKER_POINTER), 'utf8')
    .then((text) => JSON.parse(text) as Partial<Pointer>)
    .catch(() => ({}) as Partial<Pointer>);
  // The node the gateway's workers ran on before this one stays until the next change: a worker not yet swapped
  // may be respawned on it.
  const previous = old.runtime !== runtime ? old.runtime : old.previous;
  const want: Pointer = { file: name, ...(runtime ? { runtime } : {}), ...(previous && previous !== runtime ? { previous } : {}) };
  const pointer = `${JSON.stringify(want)}\n`;
  if ((await readFile(join(dir, GATEWAY_WORKER_POINTER), 'utf8').catch(() => '')) !== pointer) await writeAtomic(join(dir, GATEWAY_WORKER_POINTER), pointer);
  const others = (await readdir(dir)).filter((f) => /^worker-[0-9a-f]{16}\.mjs$/.test(f) && f !== name);
  const byAge = await Promise.all(others.map(async (f) => ({ f, mtime: (await stat(join(dir, f))).mtimeMs })));
  for (const { f } of byAge.sort((a, b) => b.mtime - a.mtime).slice(KEEP - 1)) await rm(join(dir, f), { force: true });
  await pruneRuntimes(dir, [runtime, want.previous]);
  return name;
}
