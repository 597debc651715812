// The gateway container's stable process: a node `cluster` primary that owns the listening sockets and runs the proxy
// code in a worker. Swapping the proxy code forks a worker from a new bundle; the old one drains once the new one is
// ready. A new supervisor module takes over in the same process (handOff/adopt): the listening handles and the
// workers live in node's `cluster` module, not here. The container, its IP address and its sockets never change, so
// callers that cached the gateway's address by DNS keep it across gateway upgrades (issue #13; README, East-west).

import cluster, { type Worker } from 'node:cluster';
import { closePrimaryCopies, RELEASE, RELEASED } from './shared-sockets.ts';
import { DEFAULT_RESPAWN, decideRespawn, type RespawnPolicy } from './supervisor-respawn.ts';
import { launchOf } from './supervisor-runtime.ts';

/** Worker → supervisor: its listeners are bound and it serves (the first table is applied). */
export const READY = 'cmesh-gateway-ready';
/**
 * Worker → supervisor: run this bundle instead (an absolute path the container can read), on `runtime` when given
 * (the host's node in /run/cmesh: a runtime directory with its loader and libraries, or a node binary) instead of the supervisor's own node, under `supervisor` when
 * given (a supervisor module in /run/cmesh other than the running one: init hands over to it first).
 */
export const UPGRADE = 'cmesh-gateway-upgrade';
/**
 * Supervisor → replaced worker: a successor serves; answer with `Connection: close` from now on. Its servers close
 * only `drainNoticeMs` later: closing an idle keep-alive socket races a caller's next request on it (a reset), while a
 * `Connection: close` answer makes the caller drop the socket itself.
 */
export const DRAIN = 'cmesh-gateway-drain';

/** A worker swap asked for: the bundle and the node it runs on (none: the current worker's). */
export interface WorkerSwap {
  file: string;
  runtime?: string | undefined;
}

/**
 * What one supervisor hands the next in the same process. Versioned: init passes it between modules of different
 * cmesh versions, and a module that does not know the version refuses it (the old one then takes it back).
 */
export interface SupervisorState {
  v: 1;
  current: Worker | undefined;
  currentFile: string;
  currentRuntime: string | undefined;
  /** A worker forked from a new bundle and not ready yet; given up at `deadline` (Date.now() ms). */
  next: { worker: Worker; file: string; runtime: string | undefined; deadline: number } | undefined;
}

export interface SupervisorOptions {
  /** The bundle the first worker runs (ignored with `adopt`). */
  initial: string;
  /** The node binary the first worker runs on (default: the supervisor's). */
  initialRuntime?: string;
  /** Start from a previous supervisor's state (its handOff()) instead of forking a first worker. */
  adopt?: SupervisorState;
  /** A worker swap to start at once (one the previous supervisor was asked for while handing over). */
  pending?: WorkerSwap;
  /** This supervisor module's file: an UPGRADE naming another one goes to `handOver` instead. */
  self?: string;
  /** Init's hand-over to another supervisor module; without it, every UPGRADE only swaps the worker. */
  handOver?: (supervisor: string, pending: WorkerSwap) => void;
  /** A new worker that is not ready by then is killed and the current one kept (default 15 s). */
  readyTimeoutMs?: number;
  /** How long a replaced worker answers `Connection: close` before its servers close (default 500 ms). */
  drainNoticeMs?: number;
  /** How long a replaced worker may drain its connections before it is killed (default 10 s). */
  drainMs?: number;
  /** When a current worker that died unasked is forked again, and when it leaves its runtime (supervisor-respawn.ts). */
  respawn?: Partial<RespawnPolicy>;
  log?: (line: string) => void;
}

export interface Supervisor {
  stop(): Promise<void>;
  /** Detaches from `cluster` and the workers and stops this supervisor's timers; the workers keep serving. */
  handOff(): SupervisorState;
}

type Message = { type?: unknown; file?: unknown; runtime?: unknown; supervisor?: unknown; id?: unknown; ports?: unknown; hosts?: unknown };

/**
 * Runs in the primary. Workers share the primary's listening handles (SCHED_NONE: each worker accepts on the same
 * socket itself, no extra hop through the primary), so while the old and the new worker overlap both accept, and a
 * socket stays open as long as any worker listens on it: no connection is refused during a swap. Only for listens
 * without `exclusive` (an exclusive one binds a socket of the worker's own: the next worker gets EADDRINUSE), so the
 * gateway's listeners are exclusive only outside a worker (ProxyListener.listen, HostDispatcher.listen).
 */
export function runSupervisor(o: SupervisorOptions): Supervisor {
  const log = o.log ?? (() => undefined);
  const adopt = o.adopt;
  // Checked before anything is attached: a refused state is taken back whole by the supervisor that handed it off.
  if (adopt !== undefined && adopt.v !== 1) throw new Error(`cannot adopt a supervisor state of version ${String(adopt.v)}`);
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let current = adopt?.current;
  let currentFile = adopt?.currentFile ?? o.initial;
  let currentRuntime = adopt ? adopt.currentRuntime : o.initialRuntime;
  let next: { worker: Worker; file: string; runtime: string | undefined; deadline: number; timer: NodeJS.Timeout } | undefined;
  let stopping = false;
  let handingOver = false;
  let respawnTimer: NodeJS.Timeout | undefined;
  const respawnPolicy = { ...DEFAULT_RESPAWN, ...o.respawn };
  /** The current worker's early exits in a row (supervisor-respawn.ts), and when each worker this module forked started. */
  let earlyExits = 0;
  const forkedAt = new WeakMap<Worker, number>();
  /** The listeners this supervisor put on each worker: removed at handOff, so the next one's are the only ones. */
  const attached = new Map<Worker, { message: (m: Message) => void; error: (err: Error) => void }>();

  const attach = (worker: Worker, file: string): void => {
    const listeners = {
      message: (m: Message) => onMessage(worker, m),
      error: (err: Error) => {
        log(`supervisor: the worker from ${file}: ${err.message}`);
        // Not spawned at all (a runtime gone or not executable): no exit follows, so it is handled here.
        if (worker.process.pid === undefined) notSpawned(worker);
      },
    };
    worker.on('message', listeners.message);
    worker.on('error', listeners.error);
    attached.set(worker, listeners);
  };

  const ownNode = process.execPath;
  const fork = (file: string, runtime: string | undefined): Worker => {
    // A runtime directory runs through its own loader: its arguments go before node's own (supervisor-runtime.ts).
    const launch = runtime === undefined ? { execPath: ownNode, execArgv: [] } : launchOf(runtime);
    cluster.setupPrimary({ exec: file, execArgv: [...launch.execArgv, ...process.execArgv] });
    // cluster.fork() spawns process.execPath: the worker runs on another node, and still shares this one's sockets.
    process.execPath = launch.execPath;
    let worker: Worker;
    try {
      worker = cluster.fork();
    } finally {
      process.execPath = ownNode;
      // cluster keeps its settings across setupPrimary calls: an older supervisor module taking over (a downgrade)
      // sets only `exec`, and must not spawn its node with a loader's arguments.
      cluster.setupPrimary({ execArgv: process.execArgv });
    }
    forkedAt.set(worker, Date.now());
    attach(worker, file);
    return worker;
  };

  const respawn = (delayMs: number): void => {
    current = undefined;
    // Not unref'd: with no worker left the primary may hold nothing else, and must not exit before the respawn.
    respawnTimer = setTimeout(() => {
      respawnTimer = undefined;
      if (!stopping && !current) current = fork(currentFile, currentRuntime);
    }, delayMs);
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
      earlyExits = 0;
      respawn(respawnPolicy.baseMs);
    }
  };

  const retire = (worker: Worker): void => {
    const kill = setTimeout(() => worker.process.kill('SIGKILL'), o.drainMs ?? 10_000);
    kill.unref();
    worker.once('exit', () => {
      clearTimeout(kill);
      // Until here the old code may still answer a connection it accepted before it let go of the sockets.
      log(`supervisor: a retired worker (pid ${worker.process.pid}) is gone`);
    });
    // disconnect(): the worker lets go of the shared sockets (only those: an exclusive listen is not cluster's to
    // close), its open connections finish, then it exits or is killed at the drain bound.
    worker.disconnect();
  };

  const giveUpAt = (worker: Worker, file: string, deadline: number): NodeJS.Timeout =>
    setTimeout(() => {
      log(`supervisor: the worker from ${file} was not ready in time; keeping ${currentFile}`);
      next = undefined;
      worker.process.kill('SIGKILL');
    }, Math.max(0, deadline - Date.now()));

  const swap = ({ file, runtime }: WorkerSwap): void => {
    // A worker that names no runtime keeps the one the current worker runs on.
    const on = runtime ?? currentRuntime;
    log(`supervisor: starting a worker from ${file}${on ? ` on ${on}` : ''}`);
    const worker = fork(file, on);
    const deadline = Date.now() + (o.readyTimeoutMs ?? 15_000);
    next = { worker, file, runtime: on, deadline, timer: giveUpAt(worker, file, deadline) };
  };

  const onMessage = (worker: Worker, m: Message): void => {
    // A retiring worker's close must be its sockets' last (shared-sockets.ts): this process lets go of its copies first.
    if (m?.type === RELEASE && Array.isArray(m.ports)) {
      const hosts = Array.isArray(m.hosts) ? m.hosts.filter((h): h is string => typeof h === 'string') : undefined;
      const closed = closePrimaryCopies(
        m.ports.filter((p): p is number => Number.isInteger(p)),
        hosts,
      );
      log(`supervisor: closed its copy of ${closed} listening socket(s) for a retiring worker`);
      worker.send({ type: RELEASED, id: m.id });
      return;
    }
    if (m?.type === UPGRADE && worker === current && typeof m.file === 'string' && m.file !== currentFile && !next && !handingOver) {
      const wanted: WorkerSwap = { file: m.file, runtime: typeof m.runtime === 'string' ? m.runtime : undefined };
      if (typeof m.supervisor === 'string' && m.supervisor !== o.self && o.handOver) {
        // Init loads that module, then it adopts this state and does the swap; until then this one keeps serving.
        handingOver = true;
        log(`supervisor: handing over to ${m.supervisor} (pid ${process.pid})`);
        o.handOver(m.supervisor, wanted);
      } else swap(wanted);
    } else if (m?.type === READY && next?.worker === worker) {
      clearTimeout(next.timer);
      const old = current;
      current = worker;
      currentFile = next.file;
      currentRuntime = next.runtime;
      next = undefined;
      earlyExits = 0;
      log(`supervisor: now serving from ${currentFile}`);
      if (old) {
        old.send({ type: DRAIN });
        setTimeout(() => retire(old), o.drainNoticeMs ?? 500).unref();
      }
    }
  };

  const onExit = (worker: Worker, code: number, signal: string): void => {
    if (next?.worker === worker) {
      clearTimeout(next.timer);
      log(`supervisor: the worker from ${next.file} exited before it was ready (${signal ?? code}); keeping ${currentFile}`);
      next = undefined;
    } else if (worker === current && !stopping) {
      // A worker adopted from another module started before it: it served, so it did not exit early.
      const started = forkedAt.get(worker);
      const ranMs = started === undefined ? Infinity : Date.now() - started;
      const onRuntime = currentRuntime !== undefined;
      const decision = decideRespawn(respawnPolicy, earlyExits, { ranMs, onRuntime });
      earlyExits = decision.earlyExits;
      const why = `${signal ?? code}${ranMs < respawnPolicy.earlyMs ? ` after ${ranMs} ms` : ''}`;
      if (decision.fallBack) {
        log(`supervisor: the worker exited ${respawnPolicy.fallbackAfter} times in a row soon after it started on ${currentRuntime} (last: ${why}); starting it on the supervisor's node ${ownNode} from now on`);
        currentRuntime = undefined;
      } else log(`supervisor: the worker exited (${why}); starting it again in ${decision.delayMs} ms`);
      respawn(decision.delayMs);
    }
  };
  cluster.on('exit', onExit);

  if (!adopt) {
    current = fork(currentFile, currentRuntime);
  } else {
    if (current) attach(current, currentFile);
    const n = adopt.next;
    if (n) {
      attach(n.worker, n.file);
      next = { ...n, timer: giveUpAt(n.worker, n.file, n.deadline) };
    }
    // Died while the modules changed hands (its exit went to neither): started again now.
    if (!current || current.isDead()) {
      current = undefined;
      current = fork(currentFile, currentRuntime);
    }
    log(`supervisor: ${o.self ?? 'this module'} took over in pid ${process.pid} (worker from ${currentFile})`);
  }
  if (o.pending && o.pending.file !== currentFile && !next) swap(o.pending);

  return {
    handOff: (): SupervisorState => {
      cluster.off('exit', onExit);
      for (const [worker, l] of attached) {
        worker.off('message', l.message);
        worker.off('error', l.error);
      }
      attached.clear();
      if (respawnTimer) clearTimeout(respawnTimer);
      if (next) clearTimeout(next.timer);
      const handed = next && { worker: next.worker, file: next.file, runtime: next.runtime, deadline: next.deadline };
      stopping = true;
      return { v: 1, current, currentFile, currentRuntime, next: handed };
    },
    stop: async () => {
      stopping = true;
      if (next) clearTimeout(next.timer);
      if (respawnTimer) clearTimeout(respawnTimer);
      const all = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      await Promise.all(all.map((w) => new Promise<void>((resolve) => {
        if (w.isDead()) return resolve();
        w.once('exit', () => resolve());
        retire(w);
      })));
    },
  };
}
