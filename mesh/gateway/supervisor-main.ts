// Entry of the gateway container: its stable supervisor process (runSupervisor), which forks the proxy worker.

import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { runSupervisor } from './supervisor.ts';

/**
 * CMESH_GATEWAY_WORKER: the first worker's bundle, or a `.json` pointer `{ "file": "worker-<hash>.mjs" }` next to the
 * bundles (the daemon rewrites it for each new cmesh, so a restarted container starts the newest worker).
 */
function initialWorker(): string {
  const named = process.env['CMESH_GATEWAY_WORKER'];
  if (!named) throw new Error('CMESH_GATEWAY_WORKER is not set');
  if (!named.endsWith('.json')) return named;
  const { file } = JSON.parse(readFileSync(named, 'utf8')) as { file?: unknown };
  if (typeof file !== 'string' || basename(file) !== file) throw new Error(`${named} names no bundle file`);
  return join(dirname(named), file);
}

let initial: string;
try {
  initial = initialWorker();
} catch (err) {
  process.stderr.write(`cmesh gateway supervisor: ${(err as Error).message}\n`);
  process.exit(2);
}
const supervisor = runSupervisor({ initial, log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`) });
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void supervisor.stop().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 1500).unref();
  });
}
