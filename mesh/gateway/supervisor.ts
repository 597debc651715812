// The gateway container's stable process: a node `cluster` primary that owns the listening sockets and runs the proxy
// code in a worker. Swapping the proxy code forks a worker from a new bundle; the old one drains once the new one is
// ready. The container, its IP address and its sockets never change, so callers that cached the gateway's address by
// DNS keep it across gateway upgrades (the start-first replacement issue #13 asks for; see README, East-west).

import cluster, { type Worker } from 'node:cluster';

/** Worker → supervisor: its listeners are bound and it serves (the first table is applied). */
export const READY = 'cmesh-gateway-ready';
/**
 * Worker → supervisor: run this bundle instead (an absolute path the container can read), on `runtime` when given
 * (a node binary: the host's new node in /run/cmesh) instead of the supervisor's own node.
 */
export const UPGRADE = 'cmesh-gateway-upgrade';
/**
 * Supervisor → replaced worker: a successor serves; answer with `Connection: close` from now on. Its servers close
 * only `drainNoticeMs` later: closing an idle keep-alive socket races a caller's next request on it (a reset), while a
 * `Connection: close` answer makes the caller drop the socket itself.
 */
export const DRAIN = 'cmesh-gateway-drain';

export interface SupervisorOptions {
  /** The bundle the first worker runs. */
  initial: string;
  /** The node binary the first worker runs on (default: the supervisor's). */
  initialRuntime?: string;
  /** A new worker that is not ready by then is killed and the current one kept (default 15 s). */
  readyTimeoutMs?: number;
  /** How long a replaced worker answers `Connection: close` before its servers close (default 500 ms). */
  drainNoticeMs?: number;
  /** How long a replaced worker may drain its connections before it is killed (default 10 s). */
  drainMs?: number;
  /** A current worker that died unasked is forked again after this long (default 1 s). */
  respawnMs?: number;
  log?: (line: string) => void;
}

type Message = { type?: unknown; file?: unknown; runtime?: unknown };

/**
 * Runs in the primary. Workers share the primary's listening handles (SCHED_NONE: each worker accepts on the same
 * socket itself, no extra hop through the primary), so while the old and the new worker overlap both accept, and a
 * socket stays open as long as any worker listens on it: no connection is refused during a swap.
 */
export function runSupervisor(o: SupervisorOptions): { stop(): Promise<void> } {
  const log = o.log ?? (() => undefined);
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let current: Worker | undefined;
  let currentFile = o.initial;
  let currentRuntime = o.initialRuntime;
  let next: { worker: Worker; file: string; runtime: string | undefined; timer: NodeJS.Timeout } | undefined;
  let stopping = false;

  const ownNode = process.execPath;
  const fork = (file: string, runtime: string | undefined): Worker => {
    cluster.setupPrimary({ exec: file });
    // cluster.fork() spawns process.execPath: the worker runs on another node, and still shares this one's sockets.
    process.execPath = runtime ?? ownNode;
    let worker: Worker;
    try {
      worker = cluster.fork();
    } finally {
      process.execPath = ownNode;
    }
    worker.on('message', (m: Message) => onMessage(worker, m));
    worker.on('error', (err: Error) => {
      log(`supervisor: the worker from ${file}: ${err.message}`);
      // Not spawned at all (a runtime gone or not executable): no exit follows, so it is handled here.
      if (worker.process.pid === undefined) notSpawned(worker);
    });
    return worker;
  };

  const respawn = (): void => {
    current = undefined;
    // Not unref'd: with no worker left the primary may hold nothing else, and must not exit before the respawn.
    setTimeout(() => {
      if (!stopping && !current) current = fork(currentFile, currentRuntime);
    }, o.respawnMs ?? 1000);
  };

  /** A new worker on a bad runtime is given up; the current one, respawned on that runtime, falls back to this node. */
  const notSpawned = (worker: Worker): void => {
    if (next?.worker === worker) {
      clearTimeout(next.timer);
      log(`supervisor: the worker from ${next.file} could not start on ${next.runtime}; keeping ${currentFile}`);
      next = undefined;
    } else if (worker === current && !stopping) {
      log(`supervisor: ${currentRuntime} cannot be started; starting the worker on the supervisor's node`);
      currentRuntime = undefined;
      respawn();
    }
  };

  const retire = (worker: Worker): void => {
    const kill = setTimeout(() => worker.process.kill('SIGKILL'), o.drainMs ?? 10_000);
    kill.unref();
    worker.once('exit', () => clearTimeout(kill));
    // disconnect(): the worker's servers stop accepting, its open connections finish, then it exits.
    worker.disconnect();
  };

  const onMessage = (worker: Worker, m: Message): void => {
    if (m?.type === UPGRADE && worker === current && typeof m.file === 'string' && m.file !== currentFile && !next) {
      const file = m.file;
      // A worker that names no runtime keeps the one the current worker runs on.
      const runtime = typeof m.runtime === 'string' ? m.runtime : currentRuntime;
      log(`supervisor: starting a worker from ${file}${runtime ? ` on ${runtime}` : ''}`);
      const w = fork(file, runtime);
      const timer = setTimeout(() => {
        log(`supervisor: the worker from ${file} was not ready in time; keeping ${currentFile}`);
        next = undefined;
        w.process.kill('SIGKILL');
      }, o.readyTimeoutMs ?? 15_000);
      next = { worker: w, file, runtime, timer };
    } else if (m?.type === READY && next?.worker === worker) {
      clearTimeout(next.timer);
      const old = current;
      current = worker;
      currentFile = next.file;
      currentRuntime = next.runtime;
      next = undefined;
      log(`supervisor: now serving from ${currentFile}`);
      if (old) {
        old.send({ type: DRAIN });
        setTimeout(() => retire(old), o.drainNoticeMs ?? 500).unref();
      }
    }
  };

  cluster.on('exit', (worker, code, signal) => {
    if (next?.worker === worker) {
      clearTimeout(next.timer);
      log(`supervisor: the worker from ${next.file} exited before it was ready (${signal ?? code}); keeping ${currentFile}`);
      next = undefined;
    } else if (worker === current && !stopping) {
      log(`supervisor: the worker exited (${signal ?? code}); starting it again`);
      respawn();
    }
  });

  current = fork(currentFile, currentRuntime);
  return {
    stop: async () => {
      stopping = true;
      if (next) clearTimeout(next.timer);
      const all = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      await Promise.all(all.map((w) => new Promise<void>((resolve) => {
        if (w.isDead()) return resolve();
        w.once('exit', () => resolve());
        retire(w);
      })));
    },
  };
}
