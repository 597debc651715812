// Wires one daemon together (store, event bus, project manager, control server) so main.ts and tests start it alike.

import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { CONTROL_API_VERSION, type DaemonInfo } from './api/control.ts';
import type { ContainerEngine } from './api/engine.ts';
import type { SwarmEngine } from './api/swarm-engine.ts';
import { CmeshError } from './api/errors.ts';
import { EventBus } from './event-bus.ts';
import { type CmeshHome, ensureHome } from './api/home.ts';
import { AccessLogFiles } from './access-logs.ts';
import { EastWestRuntime } from './gateway-wiring.ts';
import { MeshRuntime } from './mesh-wiring.ts';
import { DaemonTls } from './tls-service.ts';
import { DaemonMetrics } from './metrics.ts';
import { type MetricsAddr, type MetricsEndpoint, serveMetrics } from './metrics-server.ts';
import { ProjectManager } from './projects.ts';
import { PullStateFile } from './pull-state.ts';
import { createUpgradeRouter } from './routes/io-upgrade.ts';
import { createRouter } from './routes/router.ts';
import { listenControl } from './server.ts';
import { DesiredStore } from './store.ts';

export interface StartDaemonOptions {
  home: CmeshHome;
  engine: ContainerEngine;
  /** The engine's Swarm side (`up --target swarm`); absent = the swarm target is refused. */
  swarm?: SwarmEngine;
  version: string;
  resyncMs?: number;
  reconnect?: { initialMs: number; maxMs: number };
  log?: (line: string) => void;
  /** Where to serve Prometheus metrics (main.ts reads CMESH_METRICS_ADDR); off when not given. */
  metrics?: MetricsAddr | { error: string };
}

export interface RunningDaemon {
  home: CmeshHome;
  bus: EventBus;
  manager: ProjectManager;
  mesh: MeshRuntime;
  metrics: DaemonMetrics;
  info(): Promise<DaemonInfo>;
  /** Stops serving and every loop; containers keep running for the next daemon to adopt. Idempotent. */
  close(): Promise<void>;
  /** Resolves once close() finished, whoever called it (POST /v1/shutdown included). */
  closed: Promise<void>;
}

const PING_TIMEOUT_MS = 3000;

async function pingEngine(engine: ContainerEngine): Promise<DaemonInfo['engine']> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CmeshError('CMESH_E_ENGINE_UNAVAILABLE', `engine did not answer within ${PING_TIMEOUT_MS} ms`)),
      PING_TIMEOUT_MS,
    );
  });
  try {
    return { ok: true, info: await Promise.race([engine.ping(), timeout]) };
  } catch (err) {
    const e = err instanceof CmeshError ? err : new CmeshError('CMESH_E_ENGINE_UNAVAILABLE', String((err as Error)?.message ?? err));
    return { ok: false, error: e.toJSON() };
  } finally {
    clearTimeout(timer);
  }
}

export async function startDaemon(options: StartDaemonOptions): Promise<RunningDaemon> {
  const { home, engine } = options;
  const log = options.log ?? (() => undefined);
  ensureHome(home);
  const bus = new EventBus();
  const store = new DesiredStore(home.projectsDir, (project, error) => {
    log(`desired state of ${project}: ${error.message}`);
    bus.publish({ type: 'error', time: Date.now(), project, error: error.toJSON() });
  });
  // The mesh owns published ports and the service table; health/ejection changes go out as DaemonEvents.
  // The snapshot runs only at scrape time, after `mesh` exists.
  const metrics = new DaemonMetrics({ snapshot: () => mesh.services(), udp: () => mesh.ports.udpStats(), breakers: () => mesh.ports.breakerStats() });
  const metricsAbort = new AbortController();
  bus.tap((event) => metrics.observe(event), metricsAbort.signal);
  const accessLogs = new AccessLogFiles(join(home.home, 'logs'), log);
  // The local CA opens (or is created) on first use: an `x-cmesh.tls` port or `cmesh ca path`.
  const tls = new DaemonTls({ home: home.home, log, registers: [metrics.registry] });
  const mesh = new MeshRuntime({
    emit: (e) => bus.publish(e),
    log,
    tls: (project, service, spec) => tls.serving(project, service, spec),
    hooks: {
      onRequest: (project, entry) => metrics.request(project, entry),
      countRequest: (project, service, upstream, method, status, durationMs, route, target, error) =>
        metrics.count(project, service, upstream, method, status, durationMs, route, target, error),
      onAttempt: (project, stats) => metrics.attempt(project, stats),
      onAccessLog: (project, service, line) => accessLogs.write(project, service, line),
    },
    eastWest: (m) =>
      new EastWestRuntime({
        home: home.home,
        engine,
        rows: (project) => m.registry.snapshot({ project }),
        emit: (e) => bus.publish(e),
        log,
        onStats: (project, stats) => metrics.eastWestRequests(project, stats.startedAt, stats.requests, stats.gateway),
        faults: (project) => m.ports.runtimeFaults(project),
        // One gateway container for every project, kept between ups (issue #15, daemon/gateway-shared.ts);
        // CMESH_GATEWAY_SHARED=0 gives each project gateways of its own, as before.
        shared: process.env['CMESH_GATEWAY_SHARED'] !== '0',
      }),
  });
  const metricsState = await startMetrics(metrics, options.metrics, (message) => {
    log(`metrics disabled: ${message}`);
    bus.publish({ type: 'error', time: Date.now(), project: '', error: new CmeshError('CMESH_E_PORT_TAKEN', `metrics disabled: ${message}`).toJSON() });
  });
  const manager = new ProjectManager({
    engine,
    store,
    bus,
    mesh,
    filesDir: join(home.home, 'files'),
    pullTimes: new PullStateFile(join(home.home, 'pulls.json')),
    ...(options.swarm ? { swarm: options.swarm } : {}),
    ...(options.resyncMs === undefined ? {} : { resyncMs: options.resyncMs }),
    ...(options.reconnect ? { reconnect: options.reconnect } : {}),
  });
  const startedAt = Date.now();
  let closing: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });

  const info = async (): Promise<DaemonInfo> => ({
    version: options.version,
    pid: process.pid,
    home: home.home,
    socket: home.socket,
    startedAt,
    engine: await pingEngine(engine),
    projects: manager.projectCount,
    ...(metricsState.info ? { metrics: metricsState.info } : {}),
  });

  // Listen before loading projects so a second daemon racing us fails fast on the lock, not after touching containers;
  // requests wait for the load so an early `up` never merges against a state not yet read.
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const router = createRouter({
    manager,
    bus,
    info,
    services: (project) => mesh.services(project),
    setDraining: (project, ref, drained) => mesh.registry.setDraining({ project, ...ref }, drained),
    policy: { setFaults: (project, r) => mesh.ports.setFaults(project, r.service, r.faults), routes: (project) => mesh.ports.routes(project) },
    tls,
    shutdown: () => void close(),
  });
  const upgrade = createUpgradeRouter(manager);
  // Upgraded exec/attach connections are the server's no longer: close() ends them itself, or it would wait on them.
  const sessions = new Set<Duplex>();
  const server = await listenControl(home, (req, res) => void ready.then(() => router(req, res)), {
    onUpgrade: (req, socket, head) => {
      sessions.add(socket);
      socket.once('close', () => sessions.delete(socket));
      void ready.then(() => upgrade(req, socket, head));
    },
    onLost: () => {
      log(`${home.socket} now belongs to another daemon; exiting`);
      void close();
    },
  });
  function close(): Promise<void> {
    closing ??= (async () => {
      log('shutting down');
      for (const socket of sessions) socket.destroy();
      await server.close();
      await manager.close();
      await mesh.close();
      await tls[Symbol.asyncDispose]();
      metricsAbort.abort();
      await metricsState.endpoint?.close();
      await accessLogs.close();
      resolveClosed();
    })();
    return closing;
  }
  try {
    await manager.open();
    markReady();
  } catch (err) {
    await close();
    throw err;
  }
  log(`listening on ${home.socket} (api ${CONTROL_API_VERSION}, pid ${process.pid})`);
  return { home, bus, manager, mesh, metrics, info, close, closed };
}

async function startMetrics(
  metrics: DaemonMetrics,
  addr: StartDaemonOptions['metrics'],
  failed: (message: string) => void,
): Promise<{ endpoint?: MetricsEndpoint; info?: NonNullable<DaemonInfo['metrics']> }> {
  if (addr === undefined || addr === 'off') return {};
  if ('error' in addr) {
    failed(addr.error);
    return { info: addr };
  }
  try {
    const endpoint = await serveMetrics(metrics, addr);
    return { endpoint, info: { url: endpoint.url } };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const message =
      e.code === 'EADDRINUSE'
        ? `${addr.host}:${addr.port} is already in use (set CMESH_METRICS_ADDR to another host:port, or off)`
        : `cannot listen on ${addr.host}:${addr.port}: ${e.message}`;
    failed(message);
    return { info: { error: message } };
  }
}
