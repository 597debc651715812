// Test helpers for the proxy: a tiny round-robin UpstreamPool, loopback upstream servers, and a proxy on port 0.
// Tests code against the UpstreamPool contract only; the real pool and balancers live in mesh/pool.ts.

import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { MeshSpec } from '../../daemon/api/project.ts';
import type { PickContext } from '../balancer/types.ts';
import type { AttemptOutcome, PoolSnapshot, Upstream, UpstreamPool } from '../upstream-pool.ts';
import { type HttpProxyOptions, createHttpProxy } from './http-proxy.ts';
import { ProxyListener, type ProxyListenerOptions } from './listener.ts';
import type { ReadPath } from './llhttp.ts';
import { createTcpProxy } from './tcp-proxy.ts';

export interface RecordedResult {
  id: string;
  latencyMs: number;
  outcome: AttemptOutcome;
}

/** Round-robin over the healthy upstreams, honouring `exclude` when another choice exists; `hashKey` is sticky. */
export class TestPool implements UpstreamPool {
  readonly service: string;
  upstreams: Upstream[];
  readonly down = new Set<string>();
  readonly results: RecordedResult[] = [];
  readonly inFlight = new Map<string, number>();
  starts = 0;
  /** Marks an upstream down after a connect-error or reset, like passive health would. */
  ejectOnFailure = false;
  #next = 0;

  constructor(service: string, upstreams: Upstream[]) {
    this.service = service;
    this.upstreams = upstreams;
  }

  pick(ctx?: PickContext): Upstream | undefined {
    const healthy = this.upstreams.filter((u) => !this.down.has(u.id));
    if (healthy.length === 0) return undefined;
    if (ctx?.hashKey !== undefined) {
      let h = 0;
      for (const c of ctx.hashKey) h = (h * 31 + c.charCodeAt(0)) >>> 0;
      return healthy[h % healthy.length];
    }
    const fresh = ctx?.exclude === undefined ? healthy : healthy.filter((u) => !ctx.exclude!.has(u.id));
    const from = fresh.length > 0 ? fresh : healthy;
    return from[this.#next++ % from.length];
  }

  onStart({ id }: Upstream): void {
    this.starts++;
    this.inFlight.set(id, (this.inFlight.get(id) ?? 0) + 1);
  }

  onResult({ id }: Upstream, latencyMs: number, outcome: AttemptOutcome): void {
    this.inFlight.set(id, (this.inFlight.get(id) ?? 0) - 1);
    this.results.push({ id, latencyMs, outcome });
    if (this.ejectOnFailure && (outcome === 'connect-error' || outcome === 'reset')) this.down.add(id);
  }

  snapshot(): PoolSnapshot {
    return { total: this.upstreams.length, healthy: this.upstreams.length - this.down.size, draining: 0, panic: false };
  }

  outcomes(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.results) out[r.outcome] = (out[r.outcome] ?? 0) + 1;
    return out;
  }

  /** Sum of in-flight counters; 0 once every onStart got its onResult. */
  pending(): number {
    let n = 0;
    for (const v of this.inFlight.values()) n += v;
    return n;
  }
}

export function testMesh(over: Partial<MeshSpec> = {}): MeshSpec {
  return {
    lb: 'round-robin',
    protocol: 'http',
    weights: [],
    weight: 1,
    health: { intervalMs: 1000, timeoutMs: 1000, rise: 1, fall: 1 },
    retries: 2,
    timeouts: { connectMs: 1000, requestMs: 5000, idleMs: 10_000 },
    accessLog: false,
    healthExplicit: false,
    ...over,
  };
}

export interface TestUpstream {
  id: string;
  upstream: Upstream;
  server: http.Server;
  /** Requests that reached this server's handler. */
  count: number;
  close(): Promise<void>;
  /** Drops every connection at once (a killed process), then stops listening. */
  kill(): Promise<void>;
}

/** A node:http upstream on 127.0.0.1:0; the default handler answers `<id> <method> <url>`. */
export async function startUpstream(id: string, handler?: http.RequestListener): Promise<TestUpstream> {
  const t: Partial<TestUpstream> & { count: number } = { id, count: 0 };
  const server = http.createServer((req, res) => {
    t.count++;
    if (handler !== undefined) return handler(req, res);
    req.resume();
    res.setHeader('x-upstream', id);
    res.end(`${id} ${req.method} ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  t.server = server;
  t.upstream = { id, host: '127.0.0.1', port };
  t.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  t.kill = () => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  return t as TestUpstream;
}

export interface RunningProxy {
  listener: ProxyListener;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Both ways an HTTP proxy can read its sockets (see llhttp.ts). */
export const READ_PATHS: readonly ReadPath[] = ['consume', 'data'];

/** The read path of the running describeEachReadPath suite, which startProxy gives its proxies. */
let suiteReadPath: ReadPath | undefined;

/**
 * `describe` once per read path: HTTP proxies that startProxy starts inside read their sockets that way, and startProxy
 * checks that every accepted socket really is read so. Without this the 'data' path would run only on a node whose
 * parser internals changed.
 */
export function describeEachReadPath(name: string, options: { timeout?: number }, fn: (readPath: ReadPath) => void): void {
  for (const readPath of READ_PATHS) {
    describe(`${name} [read path: ${readPath}]`, options, () => {
      before(() => {
        suiteReadPath = readPath;
      });
      after(() => {
        suiteReadPath = undefined;
      });
      fn(readPath);
    });
  }
}

export async function startProxy(
  pool: UpstreamPool,
  mesh: MeshSpec = testMesh(),
  extra: Partial<HttpProxyOptions> = {},
  listenerOptions: Partial<ProxyListenerOptions> = {},
): Promise<RunningProxy> {
  const proxy =
    mesh.protocol === 'tcp'
      ? createTcpProxy({ service: pool.service, pool, mesh })
      : createHttpProxy({ service: pool.service, pool, mesh, ...(suiteReadPath === undefined ? {} : { readPath: suiteReadPath }), ...extra });
  if (proxy.kind === 'http' && suiteReadPath !== undefined && proxy.readPath !== suiteReadPath) throw new Error(`a ${suiteReadPath} suite started a ${proxy.readPath} proxy`);
  const listener = new ProxyListener({ drainTimeoutMs: 500, ...listenerOptions, proxy });
  // A socket that a parser consumes gets no 'data' listener; one on the fallback path gets exactly one.
  const misread: string[] = [];
  // h2c replicas: every client connection is read by mesh/h2 (node's parsers), not by llhttp.
  if (proxy.kind === 'http' && mesh.upstream !== 'h2c') {
    listener.server.on('connection', (s: net.Socket) => {
      const fed = s.listenerCount('data') === 1;
      if (fed !== (proxy.readPath === 'data')) misread.push(`${s.listenerCount('data')} 'data' listeners on a ${proxy.readPath} proxy`);
    });
  }
  const { port } = await listener.listen({ host: '127.0.0.1', port: 0 });
  return {
    listener,
    port,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await listener.close();
      if (misread.length > 0) throw new Error(`sockets not read the way the proxy says: ${misread.join('; ')}`);
    },
  };
}

/** A free loopback port (tiny race between close and reuse; fine for spawning fixtures that cannot report theirs). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export const ECHO_SERVER = fileURLToPath(new URL('../../fixtures/docker/echo/server.mjs', import.meta.url));

export interface EchoProcess {
  upstream: Upstream;
  child: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Spawns the echo fixture (`fixtures/docker/echo/server.mjs`) on a free loopback port and waits until it listens. */
export async function startEcho(id: string, env: Record<string, string> = {}): Promise<EchoProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [ECHO_SERVER], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', CMESH_REPLICA: id, SHUTDOWN_GRACE_MS: '500', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`echo ${id} did not start`)), 5000);
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`echo ${id} exited with ${code}`)));
  });
  child.stdout?.resume();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    upstream: { id, host: '127.0.0.1', port },
    child,
    stop: async (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Sends raw bytes on a fresh connection and collects everything until the server closes (bounded by `timeoutMs`). */
export function rawRequest(port: number, payload: string | Buffer, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.write(payload));
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', done);
    socket.on('close', done);
  });
}
