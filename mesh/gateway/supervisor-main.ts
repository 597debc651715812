// Entry of the gateway container: its stable supervisor process (runSupervisor), which forks the proxy worker.

import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { runSupervisor } from './supervisor.ts';

/**
 * CMESH_GATEWAY_WORKER: the first worker's bundle, or a `.json` pointer `{ "file": "worker-<hash>.mjs", "runtime":
 * "node-<hash>" }` next to the bundles (the daemon rewrites it for each new cmesh or host node, so a restarted container
 * starts the newest worker on the newest node; without `runtime`, on the supervisor's own node).
 */
function initialWorker(): { file: string; runtime?: string } {
  const named = process.env['CMESH_GATEWAY_WORKER'];
  if (!named) throw new Error('CMESH_GATEWAY_WORKER is not set');
  if (!named.endsWith('.json')) return { file: named };
  const { file, runtime } = JSON.parse(readFileSync(named, 'utf8')) as { file?: unknown; runtime?: unknown };
  const inDir = (name: unknown): name is string => typeof name === 'string' && basename(name) === name;
  if (!inDir(file)) throw new Error(`${named} names no bundle file`);
  if (runtime !== undefined && !inDir(runtime)) throw new Error(`${named} names a runtime outside its directory`);
  // A runtime gone from the directory (removed by hand): the supervisor's own node still runs the worker.
  const node = runtime ? join(dirname(named), runtime) : undefined;
  return { file: join(dirname(named), file), ...(node && existsSync(node) ? { runtime: node } : {}) };
}

let initial: { file: string; runtime?: string };
try {
  initial = initialWorker();
} catch (err) {
  process.stderr.write(`cmesh gateway supervisor: ${(err as Error).message}\n`);
  process.exit(2);
}
const log = (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${line}\n`);
const supervisor = runSupervisor({ initial: initial.file, ...(initial.runtime ? { initialRuntime: initial.runtime } : {}), log });
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void supervisor.stop().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 1500).unref();
  });
}
