// The daemon's worker pointer (worker.json in the gateway's /run/cmesh), as a worker reads it to ask for a swap.

import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { GATEWAY_WORKER_POINTER } from '../../daemon/api/east-west.ts';

/**
 * What the daemon wants `worker` run with: worker.json's runtime (a node binary) and supervisor module when it points at
 * that very bundle (the daemon writes it before any table names the bundle); none: the supervisor keeps the current
 * worker's node, and itself.
 */
export function pointedAt(dir: string, worker: string): { runtime?: string; supervisor?: string } {
  try {
    const pointer = JSON.parse(readFileSync(join(dir, GATEWAY_WORKER_POINTER), 'utf8')) as { file?: unknown; runtime?: unknown; supervisor?: unknown };
    if (pointer.file !== worker) return {};
    const inDir = (name: unknown): name is string => typeof name === 'string' && basename(name) === name;
    return {
      ...(inDir(pointer.runtime) ? { runtime: join(dir, pointer.runtime) } : {}),
      ...(inDir(pointer.supervisor) ? { supervisor: join(dir, pointer.supervisor) } : {}),
    };
  } catch {
    return {};
  }
}
