// The gateway's code outside its image: the container runs a frozen init (mesh/gateway/init.ts) that starts the
// supervisor module `supervisor-<hash>.mjs` and the proxy in a worker forked from `worker-<hash>.mjs`, both in the
// project's gateway directory (bind-mounted at /run/cmesh). A new cmesh version writes new files and names the worker
// in the table; the worker asks its supervisor to swap (init first hands over to a new supervisor module), so the
// container and its address stay (README: East-west).

import { createHash } from 'node:crypto';
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GATEWAY_WORKER_POINTER } from './api/east-west.ts';
import { CmeshError } from './api/errors.ts';
import { gatewayBundle } from './gateway-bundle.ts';
import { pruneRuntimes } from './gateway-runtime.ts';

/** Bundles kept per directory: the current one and two before it (a worker respawned mid-swap still finds its file). */
const KEEP = 3;

export interface WorkerBundle {
  /** `worker-<hash>.mjs`: content-addressed, so a running worker can tell a new one from its own. */
  name: string;
  data: Buffer;
  /** The supervisor module delivered beside it (`supervisor-<hash>.mjs`); none: the gateway keeps its own. */
  supervisor?: { name: string; data: Buffer };
}

/** An esbuild bundle of one of the gateway's entries, with `salt` as a trailing comment (another file, the same code). */
async function bundleOf(name: string, env: NodeJS.ProcessEnv, salt: string | undefined): Promise<Buffer> {
  const built = await gatewayBundle(name, env);
  if (built.error !== undefined) {
    throw new CmeshError('CMESH_E_BUILD_FAILED', `cannot bundle the east-west ${name}: ${built.error}`, { hint: 'this is a bug in cmesh if the sources are unchanged' });
  }
  const data = await readFile(built.path);
  return salt ? Buffer.concat([data, Buffer.from(`\n// salt: ${JSON.stringify(salt)}\n`)]) : data;
}

const contentName = (prefix: string, data: Buffer): string => `${prefix}-${createHash('sha256').update(data).digest('hex').slice(0, 16)}.mjs`;

/**
 * The supervisor module (esbuild of mesh/gateway/supervisor-main.ts): the image holds a copy as init's fallback, and
 * the daemon delivers it as `supervisor-<hash>.mjs`. CMESH_GATEWAY_SUPERVISOR_SALT makes the delivered one another
 * file with the same code, so a test can hand a running gateway a new supervisor as an upgrade would.
 */
export async function supervisorBundle(env: NodeJS.ProcessEnv = process.env, salted = true): Promise<{ name: string; data: Buffer }> {
  const data = await bundleOf('gateway-supervisor', env, salted ? env['CMESH_GATEWAY_SUPERVISOR_SALT'] : undefined);
  return { name: contentName('supervisor', data), data };
}

/**
 * The worker bundle of this cmesh (esbuild of mesh/gateway/main.ts). CMESH_GATEWAY_WORKER_SALT adds a comment to it:
 * a different bundle with the same code, so a test can swap a running gateway's worker as an upgrade would.
 */
export async function workerBundle(env: NodeJS.ProcessEnv = process.env): Promise<WorkerBundle> {
  const [data, supervisor] = await Promise.all([bundleOf('gateway', env, env['CMESH_GATEWAY_WORKER_SALT']), supervisorBundle(env)]);
  return { name: contentName('worker', data), data, supervisor };
}

const writeAtomic = async (path: string, data: Buffer | string): Promise<void> => {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode: 0o644 });
  await rename(tmp, path);
};

/** What worker.json holds: the bundle, the runtime it runs on (none: the image's node), the one before it, the supervisor. */
interface Pointer {
  file: string;
  runtime?: string;
  previous?: string;
  supervisor?: string;
}

/**
 * The bundle's name in a gateway directory: its own, or (with a runtime or a supervisor) one that also covers them,
 * so a new host runtime (node or libraries) or a new supervisor alone gives the table a new worker to ask for, as a
 * new cmesh does.
 */
export function workerName(bundle: WorkerBundle, runtime?: string): string {
  const supervisor = bundle.supervisor?.name;
  if (runtime === undefined && supervisor === undefined) return bundle.name;
  const key = supervisor === undefined ? `${bundle.name}\0${runtime}` : `${bundle.name}\0${runtime ?? ''}\0${supervisor}`;
  return `worker-${createHash('sha256').update(key).digest('hex').slice(0, 16)}.mjs`;
}

/** Removes `prefix-<hash>.mjs` files but `keep` and the newest `KEEP - 1` others (a restart may still want one). */
async function pruneOld(dir: string, prefix: string, keep: string): Promise<void> {
  const pattern = new RegExp(`^${prefix}-[0-9a-f]{16}\\.mjs$`);
  const others = (await readdir(dir)).filter((f) => pattern.test(f) && f !== keep);
  const byAge = await Promise.all(others.map(async (f) => ({ f, mtime: (await stat(join(dir, f))).mtimeMs })));
  for (const { f } of byAge.sort((a, b) => b.mtime - a.mtime).slice(KEEP - 1)) await rm(join(dir, f), { force: true });
}

/**
 * Puts the bundle in the gateway directory (once) and points the supervisor's start at it and at `runtime` (a
 * `runtime-<hash>` directory already in it, gateway-runtime.ts); prunes old bundles and runtimes. Returns the bundle's
 * name there (the table names it).
 */
export async function installWorker(dir: string, bundle: WorkerBundle, runtime?: string): Promise<string> {
  const name = workerName(bundle, runtime);
  const path = join(dir, name);
  if (!(await stat(path).catch(() => undefined))) await writeAtomic(path, bundle.data);
  // Before the pointer names it: init (at a restart) and the worker (asking for a swap) read the pointer.
  const supervisor = bundle.supervisor;
  if (supervisor && !(await stat(join(dir, supervisor.name)).catch(() => undefined))) await writeAtomic(join(dir, supervisor.name), supervisor.data);
  const old = await readFile(join(dir, GATEWAY_WORKER_POINTER), 'utf8')
    .then((text) => JSON.parse(text) as Partial<Pointer>)
    .catch(() => ({}) as Partial<Pointer>);
  // The node the gateway's workers ran on before this one stays until the next change: a worker not yet swapped
  // may be respawned on it.
  const previous = old.runtime !== runtime ? old.runtime : old.previous;
  const want: Pointer = {
    file: name,
    ...(runtime ? { runtime } : {}),
    ...(previous && previous !== runtime ? { previous } : {}),
    ...(supervisor ? { supervisor: supervisor.name } : {}),
  };
  const pointer = `${JSON.stringify(want)}\n`;
  if ((await readFile(join(dir, GATEWAY_WORKER_POINTER), 'utf8').catch(() => '')) !== pointer) await writeAtomic(join(dir, GATEWAY_WORKER_POINTER), pointer);
  await pruneOld(dir, 'worker', name);
  // A running supervisor is in memory (its file may go); init reads the one the pointer names at a restart.
  if (supervisor) await pruneOld(dir, 'supervisor', supervisor.name);
  await pruneRuntimes(dir, [runtime, want.previous]);
  return name;
}
