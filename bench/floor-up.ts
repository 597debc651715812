// One 3×3 up straight through the engine API (9 echo containers on a network of their own), by a variant's rules: the
// engine floors of bench/up-3x3.ts (probe floor, health floor) and the variants bench/up-floor-variants.ts compares
// with them. Everything a run creates is removed before it returns.

import { request } from 'node:http';
import { connect } from 'node:net';
import type { ContainerEngine } from '../daemon/api/engine.ts';

/** The echo image's healthcheck test, as an exec argv. */
export const HEALTH_CMD = ['wget', '-q', '-O-', 'http://127.0.0.1:3000/healthz'];
const HEALTH = { test: ['CMD', ...HEALTH_CMD], intervalMs: 1000, timeoutMs: 2000, retries: 3, disable: false };
const COUNT = 9;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface FloorVariant {
  name: string;
  /** Containers created+started at once (a pool); with `phased`, creates and starts each go through the pool. */
  concurrency: number;
  phased: boolean;
  /** false: the default bridge, no network create (the bound for a network created beside the creates). */
  userNetwork: boolean;
  /** 'after-exec': sleep this long after a failed exec (today's floor); 'from-start': from each exec's start (cmesh). */
  cadenceMs: number;
  cadence: 'after-exec' | 'from-start';
  /** Execs in flight for all 9 at once (Infinity: one per container, no shared cap). */
  probeCap: number;
  /** Hold every probe until the last start has returned (probes never compete with starts). */
  probesAfterStarts: boolean;
  /** Ready when the test passes by exec (the probe floor, default), or when Docker's own healthcheck says healthy. */
  ready?: 'exec-probe' | 'docker-health';
  /**
   * false: port 3000 not even exposed (compose's `expose`: no docker-proxy, no DNAT rule per start). Otherwise it is
   * reached as cmesh reaches replicas: at the container's address where the engine adapter can (nothing published),
   * else published on loopback; `publishAlways` publishes it whatever the adapter could do (the floor before
   * session 16).
   */
  publish?: boolean;
  publishAlways?: boolean;
  /** false: no docker-init as PID 1 (compose's default; cmesh's default is true). */
  init?: boolean;
  /** The network created beside the creates, each start waiting for it (tried for cmesh in session 15: not kept). */
  networkBeside?: boolean;
  /** Before the first exec, wait until port 3000 accepts a TCP connection at the replica's address (10 ms retries). */
  portGate?: boolean;
  /**
   * A stand-in for the east-west gateway beside the 9 (a node process listening on 3000, holding the services' three
   * names as aliases), ready once it accepts at its address on the run's network. 'start': a 10th container created
   * and started with the others (today's per-project gateway). 'connect': a container started once before all runs
   * (`standby`, runVariant's last argument), connected to the run's network with the aliases and disconnected at the
   * end (a gateway kept running between ups). A bare listener boots cheaper than the real gateway (init.mjs, worker,
   * first table), so 'start' understates what 'connect' would save.
   */
  gateway?: 'start' | 'connect';
  /** With gateway 'start': the 9 starts wait until the gateway's start has returned (its boot overlaps theirs). */
  gatewayFirst?: boolean;
}

/** bench (a)'s probe floor: 9 created and started at once, each probed by exec 20 ms after its last failed probe. */
export const FLOOR: FloorVariant = { name: 'floor', concurrency: COUNT, phased: false, userNetwork: true, cadenceMs: 20, cadence: 'after-exec', probeCap: Number.POSITIVE_INFINITY, probesAfterStarts: false };
/** The health floor: the same 9, polled until Docker says every one is healthy. */
export const HEALTH_FLOOR: FloorVariant = { ...FLOOR, name: 'health-floor', ready: 'docker-health' };

/** A counting semaphore (bench-local: the daemon's Slots wants an AbortSignal per take). */
function pool(size: number): <T>(work: () => Promise<T>) => Promise<T> {
  let free = size;
  const waiters: (() => void)[] = [];
  return async (work) => {
    if (free > 0) free--;
    else await new Promise<void>((r) => waiters.push(r));
    try {
      return await work();
    } finally {
      const next = waiters.shift();
      if (next) next();
      else free++;
    }
  };
}

const accepts = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host, port });
    const settle = (open: boolean) => () => {
      socket.destroy();
      resolve(open);
    };
    socket.once('connect', settle(true));
    socket.once('error', settle(false));
  });

/** Until `host:port` accepts a TCP connection (10 ms retries); past `deadline` it fails, naming `what`. */
async function untilAccepts(host: string, port: number, deadline: number, what: string): Promise<void> {
  while (!(await accepts(host, port))) {
    if (Date.now() > deadline) throw new Error(`floor variant ${what}: port ${port} never opened`);
    await sleep(10);
  }
}

/** Until the container's port 3000 accepts a connection where the engine says it is reached (portGate). */
async function portOpen(engine: ContainerEngine, id: string, deadline: number): Promise<void> {
  const endpoint = (await engine.inspectContainer(id))?.endpoints.find((e) => e.containerPort === 3000);
  if (!endpoint) throw new Error('floor variant port-gate: the container has no endpoint for port 3000');
  await untilAccepts(endpoint.host, endpoint.hostPort, deadline, 'port-gate');
}

export interface VariantRun {
  wholeMs: number;
  lastStartMs: number;
  /** When the last start was asked of the engine: the network and the creates before it (what networkBeside moves). */
  lastStartAskedMs: number;
  execs: number;
}

const GATEWAY_IMAGE = 'cmesh/node:local';
const GATEWAY_COMMAND = ['node', '-e', "require('node:net').createServer((s) => s.end()).listen(3000)"];
const GATEWAY_ALIASES = ['svc-a', 'svc-b', 'svc-c'];

/**
 * The container's address on `network`, by the engine's inspect over its socket (the adapter's ContainerInfo has no
 * per-network address; dockerode stays in the engine adapter, and a `docker` CLI process would cost the timed up more).
 */
async function addressOn(id: string, network: string): Promise<string> {
  const body = await new Promise<string>((resolve, reject) => {
    const req = request({ socketPath: '/var/run/docker.sock', path: `/containers/${id}/json` }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve(text)).on('error', reject);
    });
    req.on('error', reject).end();
  });
  const info = JSON.parse(body) as { NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> } };
  const ip = info.NetworkSettings?.Networks?.[network]?.IPAddress;
  if (!ip) throw new Error(`floor variant gateway: container ${id.slice(0, 12)} has no address on ${network}`);
  return ip;
}

/** The kept gateway's stand-in (gateway 'connect'): started once on the default bridge, `labels` for its cleanup. */
export async function startKeptGateway(engine: ContainerEngine, name: string, labels: Record<string, string>): Promise<string> {
  const { id } = await engine.createContainer({ name, image: GATEWAY_IMAGE, command: GATEWAY_COMMAND, env: {}, labels, ports: [], mounts: [], networks: [], init: true });
  await engine.startContainer(id);
  return id;
}

/** One up of 9 containers by the variant's rules on network `network`; everything it created is removed before it returns. */
export async function runVariant(engine: ContainerEngine, image: string, labels: Record<string, string>, v: FloorVariant, network: string, standby?: string): Promise<VariantRun> {
  const ids: string[] = [];
  const slot = pool(v.concurrency);
  const execSlot = pool(Number.isFinite(v.probeCap) ? v.probeCap : COUNT);
  let execs = 0;
  let lastStart = 0;
  let lastStartAsked = 0;
  let startsLeft = COUNT;
  let allStarted: () => void = () => undefined;
  const startsDone = new Promise<void>((r) => (allStarted = r));
  const t0 = performance.now();
  const create = async (i: number): Promise<string> => {
    const { id } = await engine.createContainer({
      name: `${network}-${i + 1}`,
      image,
      env: { SHUTDOWN_GRACE_MS: '200' },
      labels,
      ports: v.publish === false ? [] : [{ containerPort: 3000, protocol: 'tcp' }],
      healthcheck: HEALTH,
      mounts: [],
      networks: v.userNetwork ? [{ name: network, aliases: [] }] : [],
      // As cmesh's replicas: reached at their own address where the adapter can (replica-reach.ts), else published.
      ...(v.userNetwork && v.publishAlways !== true ? { reachNetwork: network } : {}),
      init: v.init !== false,
    });
    ids.push(id);
    return id;
  };
  let networkMade: Promise<unknown> = Promise.resolve();
  let gatewayStarted: () => void = () => undefined;
  const gatewayStart = v.gatewayFirst ? new Promise<void>((r) => (gatewayStarted = r)) : Promise.resolve();
  const start = async (id: string): Promise<void> => {
    await networkMade;
    await gatewayStart;
    lastStartAsked = performance.now() - t0;
    await engine.startContainer(id);
    lastStart = performance.now() - t0;
    if (--startsLeft === 0) allStarted();
  };
  const probe = async (id: string): Promise<void> => {
    if (v.ready === 'docker-health') return;
    if (v.probesAfterStarts) await startsDone;
    const deadline = Date.now() + 60_000;
    if (v.portGate) await portOpen(engine, id, deadline);
    for (;;) {
      const began = performance.now();
      execs++;
      const r = await execSlot(() => engine.exec(id, HEALTH_CMD, { timeoutMs: 2_000 }));
      if (r.exitCode === 0) return;
      if (Date.now() > deadline) throw new Error(`floor variant ${v.name}: a container never passed its healthcheck`);
      await sleep(v.cadence === 'after-exec' ? v.cadenceMs : Math.max(0, v.cadenceMs - (performance.now() - began)));
    }
  };
  let gatewayId: string | undefined;
  const gatewayUp = async (): Promise<void> => {
    if (!v.gateway) return;
    const deadline = Date.now() + 60_000;
    await networkMade;
    if (v.gateway === 'connect') {
      if (!standby) throw new Error(`floor variant ${v.name}: needs a standby container`);
      await engine.connectNetwork(standby, network, GATEWAY_ALIASES);
      return untilAccepts(await addressOn(standby, network), 3000, deadline, 'gateway');
    }
    const { id } = await engine.createContainer({
      name: `${network}-gw`, image: GATEWAY_IMAGE, command: GATEWAY_COMMAND, env: {}, labels, ports: [], mounts: [],
      networks: [{ name: network, aliases: GATEWAY_ALIASES }], init: true,
    });
    gatewayId = id;
    await engine.startContainer(id).finally(gatewayStarted);
    return untilAccepts(await addressOn(id, network), 3000, deadline, 'gateway');
  };
  try {
    if (v.userNetwork) networkMade = engine.createNetwork({ name: network, labels });
    networkMade.catch(() => undefined); // awaited by every start, and below
    if (!v.networkBeside) await networkMade;
    const idx = Array.from({ length: COUNT }, (_, i) => i);
    const gatewayReady = gatewayUp();
    gatewayReady.catch(() => undefined).finally(gatewayStarted); // awaited below, after the 9; a failed gateway frees the 9
    if (v.phased) {
      const created = await Promise.all(idx.map((i) => slot(() => create(i))));
      await Promise.all(created.map((id) => slot(() => start(id)).then(() => probe(id))));
    } else {
      await Promise.all(idx.map(async (i) => probe(await slot(async () => {
        const id = await create(i);
        await start(id);
        return id;
      }))));
    }
    await networkMade;
    await gatewayReady;
    while (v.ready === 'docker-health') {
      const all = await engine.listContainers({ labels, all: true });
      if (all.filter((c) => ids.includes(c.id) && c.health === 'healthy').length === ids.length) break;
      if (performance.now() - t0 > 120_000) throw new Error(`floor variant ${v.name}: containers not healthy within 120 s`);
      await sleep(50);
    }
    return { wholeMs: performance.now() - t0, lastStartMs: lastStart, lastStartAskedMs: lastStartAsked, execs };
  } finally {
    await Promise.all([...ids, ...(gatewayId ? [gatewayId] : [])].map((id) => engine.removeContainer(id, { force: true })));
    if (v.gateway === 'connect' && standby) await engine.disconnectNetwork(standby, network).catch(() => undefined);
    if (v.userNetwork) await engine.removeNetwork(network).catch(() => undefined);
  }
}

