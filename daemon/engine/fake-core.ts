// The fake engine's shared state and bookkeeping (clock, ids, call log, fault queue, events), used by its per-resource
// modules. Failures are made from engine statuses through translateEngineError, like the real adapter's.

import type {
  ContainerCreateSpec,
  ContainerHealth,
  ContainerInfo,
  ContainerState,
  EngineEvent,
  ImageInfo,
  ExecOptions,
  LogLine,
  NetworkInfo,
  VolumeInfo,
} from '../api/engine.ts';
import type { CmeshError } from '../api/errors.ts';
import { Labels } from '../api/labels.ts';
import { withLatestTag } from '../api/engine-images.ts';
import { Notifier, type Subscription } from './fake-signal.ts';
import { isLinkEvent } from './stream-util.ts';
import type { ReachMode } from './replica-reach.ts';
import { type EngineOp, isBenign, translateEngineError } from './translate-error.ts';

export interface FakeEngineOptions {
  /** Clock hook; default a manual clock starting at 2024-01-01 that only moves with `advance()`. */
  now?: () => number;
  /** When true, createContainer/build FROM need an image added with addImage (default: every image exists). */
  strictImages?: boolean;
  /** First engine-assigned host port (default 32768, like Linux's ephemeral range). */
  firstHostPort?: number;
  /** Exit code a `stop` produces (default 0: the app handled SIGTERM). */
  stopExitCode?: number;
  /**
   * How replicas are reached (replica-reach.ts). Default `published`: a pure-logic test dials the loopback ports it
   * is told; `direct` gives a replica with a reach network an address of its own at each start, ports unpublished.
   */
  reach?: ReachMode;
  /**
   * Builds without a build script read the context's Dockerfile and run it like the classic builder (FROM must exist
   * when strictImages, RUN goes through the fake shell); default false: one `FROM scratch` step.
   */
  runDockerfiles?: boolean;
}

export interface FakeCall {
  method: string;
  args: unknown[];
  time: number;
}

export interface FakeContainer {
  id: string;
  name: string;
  spec: ContainerCreateSpec;
  /** The image's id at create, when the fake knew the image (the engine's ImageID: it stays if the tag moves). */
  imageId?: string;
  state: ContainerState;
  health: ContainerHealth;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  restartCount: number;
  endpoints: ContainerInfo['endpoints'];
  logs: LogLine[];
  /** Networks attached (by name), and the aliases each endpoint carries. */
  networks: string[];
  aliases: Map<string, string[]>;
  changed: Notifier;
  /** Files put with putArchive, by absolute path, so getArchive can give them back. */
  files: Map<string, Buffer>;
}

/**
 * What an exec in the fake does. A promise models a process that takes time: the fake waits for it up to the exec's
 * timeout, like the real engine, and `stillRunning()` stays true until it settles.
 */
export type ExecHandler = (
  container: FakeContainer,
  command: string[],
  options: ExecOptions,
) => { exitCode: number; output: string } | Promise<{ exitCode: number; output: string }>;
/** What the container's app does once started (print, exit…), driven through the engine's test controls. */
export type StartHandler = (container: FakeContainer) => void;

export function fakeId(prefix: string, n: number): string {
  return `${prefix}${n.toString(16).padStart(11, '0')}`.padEnd(64, '0');
}

export class FakeCore {
  readonly calls: FakeCall[] = [];
  readonly opts: Required<Omit<FakeEngineOptions, 'now'>>;
  readonly #externalNow: (() => number) | undefined;
  #clock = Date.UTC(2024, 0, 1);
  offset = 0;
  #seq = 0;
  #nextPort: number;
  #nextAddress = 2;
  /** "<container id> <network>" → the address its inspect gives there (#addressOn). */
  readonly #networkAddresses = new Map<string, string>();
  down = false;
  readonly containers = new Map<string, FakeContainer>();
  readonly networks = new Map<string, NetworkInfo>();
  readonly volumes = new Map<string, VolumeInfo>();
  readonly images = new Map<string, ImageInfo>();
  readonly history: EngineEvent[] = [];
  readonly subscribers = new Set<Subscription<EngineEvent>>();
  readonly failures = new Map<string, { error: CmeshError; times: number }[]>();
  onStart: StartHandler = () => {};

  constructor(opts: FakeEngineOptions) {
    this.#externalNow = opts.now;
    this.opts = {
      strictImages: opts.strictImages ?? false,
      firstHostPort: opts.firstHostPort ?? 32768,
      stopExitCode: opts.stopExitCode ?? 0,
      reach: opts.reach ?? 'published',
      runDockerfiles: opts.runDockerfiles ?? false,
    };
    this.#nextPort = this.opts.firstHostPort;
  }

  now(): number {
    return (this.#externalNow ? this.#externalNow() : this.#clock) + this.offset;
  }

  nextId(prefix: string): string {
    return fakeId(prefix, ++this.#seq);
  }

  /** Logs the call, then throws an injected failure or the engine-down error. */
  enter(method: string, args: unknown[]): void {
    this.calls.push({ method, args, time: this.now() });
    const queue = this.failures.get(method);
    const head = queue?.[0];
    if (queue && head) {
      if (--head.times <= 0) queue.shift();
      throw head.error;
    }
    if (this.down) throw this.unavailable();
  }

  unavailable(): CmeshError {
    return translateEngineError(Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' }), {
      op: 'ping',
      host: 'fake://',
    });
  }

  /** Builds the error the real adapter would produce from this engine status + message. */
  engineError(status: number, message: string, ctx: Parameters<typeof translateEngineError>[1]): CmeshError {
    return translateEngineError(Object.assign(new Error(`(HTTP code ${status}) fake - ${message}`), { statusCode: status }), ctx);
  }

  /** Asserts the status really is benign for the op in the shared table, so the fake cannot drift from the adapter. */
  benign(op: EngineOp, status: number, message = ''): void {
    if (!isBenign(op, { status, message })) throw this.engineError(status, message, { op });
  }

  find(idOrName: string): FakeContainer | undefined {
    const byId = this.containers.get(idOrName);
    if (byId) return byId;
    const name = idOrName.replace(/^\//, '');
    for (const c of this.containers.values()) if (c.name === name) return c;
    if (idOrName.length >= 4) {
      const matchesPrefix = [...this.containers.values()].filter((c) => c.id.startsWith(idOrName));
      if (matchesPrefix.length === 1) return matchesPrefix[0];
    }
    return undefined;
  }

  mustFind(idOrName: string): FakeContainer {
    const c = this.find(idOrName);
    if (!c) throw new Error(`fake engine: no container ${idOrName}`);
    return c;
  }

  newContainer(created: ContainerCreateSpec): FakeContainer {
    // As the real adapter does, a directly reached replica carries labels naming its network and ports.
    const reached = this.#reached(created);
    const spec: ContainerCreateSpec = structuredClone(created);
    if (reached.length > 0) {
      spec.labels = { ...spec.labels, [Labels.reachNetwork]: created.reachNetwork!, [Labels.reachPorts]: reached.map((p) => `${p.containerPort}/${p.protocol}`).join(',') };
    }
    const c: FakeContainer = {
      id: this.nextId('c'),
      name: spec.name,
      spec,
      ...(this.images.has(withLatestTag(spec.image)) ? { imageId: this.images.get(withLatestTag(spec.image))!.id } : {}),
      state: 'created',
      health: 'none',
      createdAt: this.now(),
      restartCount: 0,
      endpoints: [],
      logs: [],
      networks: spec.networks.map((n) => n.name),
      aliases: new Map(spec.networks.map((n) => [n.name, [...(n.aliases ?? [])].sort()])),
      changed: new Notifier(),
      files: new Map(),
    };
    this.containers.set(c.id, c);
    this.emit('container', 'create', c, { image: spec.image });
    return c;
  }

  /** The ports reached at the container's own address: in `direct` mode, with a reach network, no fixed host port. */
  #reached(spec: ContainerCreateSpec): ContainerCreateSpec['ports'] {
    return this.opts.reach === 'direct' && spec.reachNetwork !== undefined ? spec.ports.filter((p) => p.hostPort === undefined) : [];
  }

  start(c: FakeContainer): void {
    c.state = 'running';
    c.startedAt = this.now();
    c.exitCode = undefined;
    c.finishedAt = undefined;
    c.health = c.spec.healthcheck && !c.spec.healthcheck.disable ? 'starting' : 'none';
    // Engine-assigned host ports change on every start, as with Docker; so may a container's address.
    const address = `10.89.${(this.#nextAddress >> 8) & 255}.${this.#nextAddress++ & 255}`;
    const reached = new Set(this.#reached(c.spec));
    c.endpoints = c.spec.ports.map((p) =>
      reached.has(p)
        ? { containerPort: p.containerPort, protocol: p.protocol, host: address, hostPort: p.containerPort, direct: true as const }
        : { ...p, host: '127.0.0.1', hostPort: this.#nextPort++ },
    ).sort((a, b) => a.containerPort - b.containerPort || a.protocol.localeCompare(b.protocol));
    this.emit('container', 'start', c);
    c.changed.notify();
    this.onStart(c);
  }

  exit(c: FakeContainer, code: number, precedingAction?: string): void {
    if (precedingAction) this.emit('container', precedingAction, c);
    c.state = 'exited';
    c.exitCode = code;
    c.finishedAt = this.now();
    c.endpoints = [];
    if (c.health !== 'none') c.health = 'unhealthy';
    this.emit('container', 'die', c, { exitCode: String(code) });
    // HostConfig.AutoRemove (`cmesh run --rm -d`): the engine removes it as soon as it has exited.
    if (c.spec.autoRemove && this.containers.delete(c.id)) this.emit('container', 'destroy', c);
    c.changed.notify();
  }

  /** A running container's address on `network`, as inspect gives it: one per network and container, kept. */
  #addressOn(c: FakeContainer, network: string): { address?: string } {
    if (c.state !== 'running' && c.state !== 'paused') return {};
    const key = `${c.id} ${network}`;
    let address = this.#networkAddresses.get(key);
    if (address === undefined) {
      const n = this.#networkAddresses.size + 2;
      address = `10.90.${(n >> 8) & 255}.${n & 255}`;
      this.#networkAddresses.set(key, address);
    }
    return { address };
  }

  /** `withAliases`: as inspect answers (the list API carries no aliases). */
  info(c: FakeContainer, withAliases = false): ContainerInfo {
    return {
      id: c.id,
      name: c.name,
      image: c.spec.image,
      ...(c.imageId === undefined ? {} : { imageId: c.imageId }),
      state: c.state,
      health: c.health,
      labels: { ...c.spec.labels },
      createdAt: c.createdAt,
      ...(c.startedAt === undefined ? {} : { startedAt: c.startedAt }),
      ...(c.finishedAt === undefined ? {} : { finishedAt: c.finishedAt }),
      ...(c.exitCode === undefined ? {} : { exitCode: c.exitCode }),
      restartCount: c.restartCount,
      endpoints: c.endpoints.map((e) => ({ ...e })),
      networks: [...c.networks]
        .sort((a, b) => a.localeCompare(b))
        .map((name) => (withAliases ? { name, aliases: [...(c.aliases.get(name) ?? [])], ...this.#addressOn(c, name) } : { name })),
    };
  }

  /** Records a container event (attributes carry the name, like the engine's) and hands it to visible subscribers. */
  emit(type: 'container', action: string, c: FakeContainer, extra?: Record<string, string>): void;
  emit(type: EngineEvent['type'], action: string, id: string, labels: Record<string, string>, extra: Record<string, string>): void;
  emit(
    type: EngineEvent['type'],
    action: string,
    subject: FakeContainer | string,
    labelsOrExtra?: Record<string, string>,
    more: Record<string, string> = {},
  ): void {
    const [id, labels, extra] =
      typeof subject === 'string'
        ? [subject, labelsOrExtra ?? {}, more]
        : [subject.id, subject.spec.labels, { name: subject.name, ...labelsOrExtra }];
    const event: EngineEvent = { type, action, id, labels: { ...labels }, attributes: { ...labels, ...extra }, time: this.now() };
    this.history.push(event);
    if (!visible(event)) return;
    for (const sub of this.subscribers) sub.push(event);
  }
}

/**
 * What the adapter's event filters let through on the real engine: cmesh-managed containers, and any container's
 * network connects and disconnects. It asks for managed networks and volumes too, but the engine puts no labels on
 * their events, so none ever match (the contract checks).
 */
export function visible(e: EngineEvent): boolean {
  return (e.labels[Labels.managed] === 'true' && e.type === 'container') || isLinkEvent(e);
}

export function matches(labels: Record<string, string>, query: Record<string, string | true>): boolean {
  return Object.entries(query).every(([k, v]) => (v === true ? k in labels : labels[k] === v));
}
