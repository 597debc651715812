// The shared east-west gateway's worker (CMESH_GATEWAY_SHARED=1): one process, kept running by the daemon, serving
// every project whose table says so. Per project: its daemon socket under the root, a Gateway bound on the shared
// container's addresses on that project's networks (so two projects on one port do not collide), its own reports.
// Connecting a running container to a project's network costs an `up` nothing measurable; creating one did (issue #15).

import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { GATEWAY_SOCKET_DIR } from '../../daemon/api/east-west.ts';
import type { GatewayTable } from '../../daemon/api/gateway-control.ts';
import { ControlClient } from './control-client.ts';
import { Gateway, type GatewayOptions } from './gateway.ts';
import { ProjectSockets } from './project-sockets.ts';
import { statsMessage } from './stats-message.ts';
import { DRAIN, READY, UPGRADE } from './supervisor.ts';
import { nodeDescription } from './supervisor-runtime.ts';
import { warmedUp } from './warm-up.ts';
import { pointedAt } from './worker-pointer.ts';

const STATS_MS = 1000;
/** A new worker reports READY by then at the latest, whatever its projects' daemons do (the supervisor waits 15 s). */
export const SHARED_READY_BOUND_MS = 10_000;

export interface SharedGatewayOptions {
  /** The directory of every project's socket directory and of worker.json (/run/cmesh in the container). */
  root: string;
  signal: AbortSignal;
  log?: (line: string) => void;
  /**
   * To the supervisor (process.send under it). With it, a project's listeners bind once its first table is applied and
   * its replicas warmed up, and READY follows the first scan's projects; without it, they bind at once and no READY.
   */
  send?: (message: object) => void;
  /** The container's hostname (its short id): what a table's drain and retire name, and what reports carry. */
  host?: string;
  /** This worker's bundle file name: a table naming another asks the supervisor for a swap. */
  ownBundle?: string;
  rescanMs?: number;
  readyBoundMs?: number;
  warmUpMs?: number;
  /** Passed to every project's Gateway (tests: a resolver, the refresh period). */
  gateway?: Pick<GatewayOptions, 'resolve' | 'refreshMs' | 'rand'>;
}

interface Project {
  name: string;
  abort: AbortController;
  client: ControlClient;
  /** Made by its first table that names shared addresses, then kept until the project's directory goes. */
  gateway: Gateway | undefined;
  /** Its last table names shared addresses: this worker serves it, and reports on it. */
  served: boolean;
  /** listen() was called (or is under way) on its Gateway. */
  listening: boolean;
  /** Applied its first table, or its socket could not be reached: READY waits for no more of it. */
  settled: boolean;
}

export interface SharedGateway {
  projects(): string[];
  gateway(project: string): Gateway | undefined;
  /** A successor serves (the supervisor's DRAIN): every project's listeners answer `Connection: close`, for good. */
  drain(): void;
  /** Resolves once READY was sent (at once without a supervisor). */
  ready: Promise<void>;
}

export function startSharedGateway(o: SharedGatewayOptions): SharedGateway {
  const log = (line: string): void => o.log?.(line);
  const host = o.host ?? hostname();
  const supervised = o.send !== undefined;
  const startedAt = Date.now();
  const projects = new Map<string, Project>();
  let asked: string | undefined;
  /** The supervisor swapped this worker out (DRAIN): its drain is never taken back. */
  let replaced = false;

  // READY: once every project of the first scan settled, or at the bound.
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let readySent = false;
  let firstScan: Set<string> | undefined;
  const sendReady = (why: string): void => {
    if (readySent || o.signal.aborted) return;
    readySent = true;
    clearTimeout(readyTimer);
    if (o.send) {
      log(`ready: ${why}`);
      o.send({ type: READY });
    }
    markReady();
  };
  const readyTimer = setTimeout(() => sendReady(`not every project settled within ${o.readyBoundMs ?? SHARED_READY_BOUND_MS} ms`), o.readyBoundMs ?? SHARED_READY_BOUND_MS);
  const settle = (p: Project): void => {
    if (p.settled) return;
    p.settled = true;
    firstScan?.delete(p.name);
    if (firstScan?.size === 0) sendReady('every project found at start settled');
  };

  const report = (p: Project): void => {
    const gw = p.gateway;
    if (!gw || o.signal.aborted) return;
    p.client.send(statsMessage(gw, { project: p.name, host, startedAt }));
  };

  const makeGateway = (p: Project): Gateway => {
    const gw = new Gateway({
      ...o.gateway,
      signal: p.abort.signal,
      log: (line) => log(`${p.name}: ${line}`),
      hosts: [],
      holdListeners: supervised,
      onDrainReport: () => report(p),
    });
    if (replaced) gw.startDraining();
    return gw;
  };

  const askSwap = (worker: string | undefined): void => {
    if (worker === undefined || worker === o.ownBundle || worker === asked || !o.send) return;
    asked = worker;
    log(`asking the supervisor to swap ${o.ownBundle ?? '?'} for ${worker}`);
    o.send({ type: UPGRADE, file: join(o.root, worker), ...pointedAt(o.root, worker) });
  };

  /** What main.ts does with the table's drain and retire lists, for one project's Gateway. */
  const drainAndRetire = (p: Project, gw: Gateway, all: GatewayTable): void => {
    const drain = all.drain?.includes(host) ?? false;
    if (drain && !gw.draining) {
      log(`${p.name}: draining: a new gateway container serves these names; answers carry Connection: close`);
      gw.startDraining();
      report(p);
    } else if (!drain && gw.draining && !replaced) {
      gw.stopDraining();
      log(`${p.name}: not draining after all: keep-alive again`);
      report(p);
    }
    const retire = all.retire?.includes(host) ?? false;
    if (retire !== gw.retiring) {
      log(`${p.name}: ${retire ? 'retiring: closing the listeners, the new gateway container serves' : 'not retired after all: listening again'}`);
      void (retire ? gw.retire() : gw.unretire()).then(() => report(p));
    }
  };

  const onTable = (p: Project, all: GatewayTable): void => {
    askSwap(all.worker);
    const addresses = all.shared?.addresses ?? [];
    if (addresses.length === 0) {
      // Not (or no longer) on the shared gateway: its own gateway serves it, or nothing does. The client stays.
      const gw = p.gateway;
      if (gw && p.served) {
        log(`${p.name}: off the shared gateway: closing its listeners`);
        p.served = false;
        // Its pools go too (their probes would double its own gateway's); a last report says it serves nothing here.
        void Promise.all([gw.apply({ ...all, services: [] }), gw.setHosts([])]).then(() => report(p));
      }
      settle(p);
      return;
    }
    const gw = p.gateway ?? makeGateway(p);
    p.gateway = gw;
    if (!p.served) log(`${p.name}: serving on ${addresses.join(', ')}`);
    p.served = true;
    drainAndRetire(p, gw, all);
    const table = { ...all, services: all.services.filter((s) => (s.gateway ?? 0) === 0) };
    // The table first: its sync binds on the addresses set right after (read when it reaches the listeners).
    void Promise.all([gw.apply(table), gw.setHosts(addresses)])
      // Report at once: the daemon waits for the gateway to see a drain before it stops a replica.
      .then(() => report(p))
      .then(async () => {
        if (p.listening || !p.served) return settle(p);
        p.listening = true;
        if (supervised) {
          const cold = await warmedUp(() => gw.rows(), p.abort.signal, o.warmUpMs);
          if (cold.length > 0) log(`${p.name}: listening with no routable replica yet for ${cold.join(', ')}`);
        }
        await gw.listen();
        settle(p);
        report(p);
      })
      .catch((err: unknown) => log(`BUG: ${p.name}: applying the table failed: ${(err as Error)?.stack ?? String(err)}`));
  };

  const add = (name: string, socket: string): void => {
    const abort = new AbortController();
    const onAbort = (): void => abort.abort();
    o.signal.addEventListener('abort', onAbort, { once: true });
    abort.signal.addEventListener('abort', () => o.signal.removeEventListener('abort', onAbort), { once: true });
    const p: Project = { name, abort, client: undefined as unknown as ControlClient, gateway: undefined, served: false, listening: false, settled: false };
    projects.set(name, p);
    p.client = new ControlClient({
      path: socket,
      signal: abort.signal,
      onTable: (table) => onTable(p, table),
      onState: (connected, reason) => log(`${name}: ${connected ? `connected to the daemon at ${socket}` : `disconnected: ${reason ?? ''}`}`),
      // Its daemon is not there: nothing to wait for at start (a table follows whenever it comes back).
      onConnectFailed: () => settle(p),
    });
    log(`${name}: found ${socket}`);
  };

  const remove = (name: string): void => {
    const p = projects.get(name);
    if (!p) return;
    projects.delete(name);
    log(`${name}: its directory is gone: closing its client and listeners`);
    // The Gateway closes its listeners on this abort, the client its connection.
    p.abort.abort();
    settle(p);
  };

  const sockets = new ProjectSockets({ root: o.root, signal: o.signal, onAdd: add, onRemove: remove, ...(o.rescanMs === undefined ? {} : { rescanMs: o.rescanMs }) });
  firstScan = new Set([...projects.values()].filter((p) => !p.settled).map((p) => p.name));
  if (firstScan.size === 0) sendReady(projects.size === 0 ? 'no project yet' : 'every project found at start settled');

  const timer = setInterval(() => {
    for (const p of projects.values()) if (p.served) report(p);
  }, STATS_MS);
  o.signal.addEventListener(
    'abort',
    () => {
      clearInterval(timer);
      clearTimeout(readyTimer);
    },
    { once: true },
  );
  log(`cmesh shared gateway on ${o.root}: ${sockets.projects().length} project(s) at start`);

  return {
    projects: () => [...projects.keys()],
    gateway: (name) => projects.get(name)?.gateway,
    drain: () => {
      replaced = true;
      for (const p of projects.values()) p.gateway?.startDraining();
    },
    ready,
  };
}

/** Whether the container runs the shared gateway (the daemon sets CMESH_GATEWAY_SHARED=1 on that one container). */
export function sharedMode(env: NodeJS.ProcessEnv): boolean {
  return env['CMESH_GATEWAY_SHARED'] === '1';
}

/**
 * The worker process's side (main.ts): the root (/run/cmesh, CMESH_GATEWAY_ROOT in tests), the supervisor's channel
 * and its DRAIN, the log on stdout. Aborting the controller closes every project's client and listeners.
 */
export function runSharedGateway(env: NodeJS.ProcessEnv = process.env): AbortController {
  const abort = new AbortController();
  const log = (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const root = env['CMESH_GATEWAY_ROOT'] || GATEWAY_SOCKET_DIR;
  const shared = startSharedGateway({
    root,
    signal: abort.signal,
    log,
    ...(process.send ? { send: (m: object) => void process.send?.(m) } : {}),
    ownBundle: basename(process.argv[1] ?? ''),
  });
  // A successor took over: let keep-alive callers go (the supervisor closes this worker's servers shortly after).
  process.on('message', (m: { type?: unknown }) => {
    if (m?.type === DRAIN) shared.drain();
  });
  log(`cmesh shared gateway (${nodeDescription()}, pid ${process.pid})`);
  return abort;
}
