// The supervisor module init loads (mesh/gateway/init.ts): the image's own copy, or `supervisor-<hash>.mjs` the daemon
// put in /run/cmesh. `start` is its one contract with init, which outlives every supervisor: keep its shape.

import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { runSupervisor, type Supervisor, type SupervisorState, type WorkerSwap } from './supervisor.ts';

/** What init passes (init.ts repeats this shape; a new field must be optional on both sides). */
export interface InitContext {
  /** This module's file, as init loaded it. */
  self: string;
  /** The previous supervisor's state: take it over instead of forking a first worker. */
  adopt?: unknown;
  /** A worker swap the previous supervisor was asked for: done once adopted. */
  pending?: unknown;
  log(line: string): void;
  /** Asks init to load `supervisor` and hand this one's state over to it. */
  handOver(supervisor: string, pending: unknown): void;
}

/**
 * CMESH_GATEWAY_WORKER: the first worker's bundle, or a `.json` pointer `{ "file": "worker-<hash>.mjs", "runtime":
 * "runtime-<hash>", "supervisor": "supervisor-<hash>.mjs" }` next to the bundles (the daemon rewrites it for each new
 * cmesh or host node or libraries, so a restarted container starts the newest worker on the newest runtime; without
 * `runtime`, on the supervisor's own node). A runtime is a directory (supervisor-runtime.ts) or, from an older cmesh, a
 * `node-<hash>` binary.
 */
export function initialWorker(named: string | undefined): { file: string; runtime?: string } {
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

const swapOf = (x: unknown): WorkerSwap | undefined => {
  const s = x as Partial<WorkerSwap> | undefined;
  return typeof s?.file === 'string' ? { file: s.file, runtime: typeof s.runtime === 'string' ? s.runtime : undefined } : undefined;
};

export function start(ctx: InitContext): Supervisor {
  const common = { self: ctx.self, log: ctx.log, handOver: ctx.handOver };
  const pending = swapOf(ctx.pending);
  if (ctx.adopt !== undefined) return runSupervisor({ ...common, initial: '', adopt: ctx.adopt as SupervisorState, ...(pending ? { pending } : {}) });
  const initial = initialWorker(process.env['CMESH_GATEWAY_WORKER']);
  return runSupervisor({ ...common, initial: initial.file, ...(initial.runtime ? { initialRuntime: initial.runtime } : {}) });
}
