// An in-memory ContainerEngine for unit tests of plans and supervision: same idempotency and error codes as the real
// adapter (its failures go through the same translateEngineError), deterministic ids, a manual clock, fault injection.

import type { Readable } from 'node:stream';
import type {
  BuildOptions,
  BuildProgress,
  ContainerCreateSpec,
  ContainerEngine,
  ContainerFilter,
  ContainerHealth,
  ContainerInfo,
  ContainerState,
  EngineEvent,
  EngineInfo,
  ImageInfo,
  LogLine,
  LogOptions,
  NetworkCreateSpec,
  NetworkInfo,
  PullOptions,
  PullProgress,
  VolumeCreateSpec,
  VolumeInfo,
} from '../api/engine.ts';
import { CmeshError } from '../api/errors.ts';
import { Labels } from '../api/labels.ts';
import { buildFailure } from './build-progress.ts';
import { Notifier, Subscription } from './fake-signal.ts';
import { FakeRegistry } from './pull-fake.ts';
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
  state: ContainerState;
  health: ContainerHealth;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  restartCount: number;
  endpoints: ContainerInfo['endpoints'];
  logs: LogLine[];
  /** Networks attached (by name). */
  networks: string[];
  changed: Notifier;
}

export type ExecHandler = (container: FakeContainer, command: string[]) => { exitCode: number; output: string };

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15 };

function fakeId(prefix: string, n: number): string {
  return `${prefix}${n.toString(16).padStart(11, '0')}`.padEnd(64, '0');
}

export class FakeEngine implements ContainerEngine {
  readonly calls: FakeCall[] = [];
  readonly archives: { id: string; path: string; bytes: number }[] = [];
  /** What pullImage pulls from: tests add images, credentials and outages (pull-fake.ts). */
  readonly registry = new FakeRegistry();
  readonly #opts: Required<Omit<FakeEngineOptions, 'now'>>;
  readonly #externalNow: (() => number) | undefined;
  #clock = Date.UTC(2024, 0, 1);
  #offset = 0;
  #seq = 0;
  #nextPort: number;
  #down = false;
  readonly #containers = new Map<string, FakeContainer>();
  readonly #networks = new Map<string, NetworkInfo>();
  readonly #volumes = new Map<string, VolumeInfo>();
  readonly #images = new Map<string, ImageInfo>();
  readonly #history: EngineEvent[] = [];
  readonly #subscribers = new Set<Subscription<EngineEvent>>();
  readonly #failures = new Map<string, { error: CmeshError; times: number }[]>();
  #execHandler: ExecHandler = () => ({ exitCode: 0, output: '' });
  #buildScript: BuildProgress[] | { fail: string; output?: string[] } | undefined;

  constructor(opts: FakeEngineOptions = {}) {
    this.#externalNow = opts.now;
    this.#opts = {
      strictImages: opts.strictImages ?? false,
      firstHostPort: opts.firstHostPort ?? 32768,
      stopExitCode: opts.stopExitCode ?? 0,
    };
    this.#nextPort = this.#opts.firstHostPort;
  }

  // ---- test controls ----------------------------------------------------------------------------------------------

  now(): number {
    return (this.#externalNow ? this.#externalNow() : this.#clock) + this.#offset;
  }

  /** Moves the clock forward (added on top of an external `now` hook). */
  advance(ms: number): void {
    this.#offset += ms;
  }

  callsOf(method: string): FakeCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  clearCalls(): void {
    this.calls.length = 0;
  }

  /** Every call fails with CMESH_E_ENGINE_UNAVAILABLE and open event streams end with it (the caller reconnects). */
  setEngineDown(down: boolean): void {
    this.#down = down;
    if (down) {
      for (const sub of this.#subscribers) sub.fail(this.#unavailable());
      this.#subscribers.clear();
    }
  }

  /** The next `times` calls of `method` throw `error`. */
  failNext(method: keyof ContainerEngine, error: CmeshError, times = 1): void {
    const list = this.#failures.get(method) ?? [];
    list.push({ error, times });
    this.#failures.set(method, list);
  }

  /** The next startContainer fails as the real engine does when a host port is taken. */
  simulatePortConflict(port: number): void {
    this.failNext(
      'startContainer',
      this.#engineError(500, `driver failed programming external connectivity: Bind for 127.0.0.1:${port} failed: port is already allocated`, { op: 'start' }),
    );
  }

  /** The app crashed (or exited on its own) with `code`. */
  simulateExit(idOrName: string, code = 1): void {
    const c = this.#mustFind(idOrName);
    if (c.state !== 'running' && c.state !== 'paused') return;
    this.#exit(c, code);
  }

  /** Someone ran `docker rm -f` behind cmesh's back. */
  simulateRemoval(idOrName: string): void {
    const c = this.#mustFind(idOrName);
    if (c.state === 'running' || c.state === 'paused') this.#exit(c, 137, 'kill');
    this.#containers.delete(c.id);
    this.#emit('container', 'destroy', c.id, c.spec.labels, { name: c.name });
    c.changed.notify();
  }

  setHealth(idOrName: string, health: ContainerHealth): void {
    const c = this.#mustFind(idOrName);
    if (c.health === health) return;
    c.health = health;
    this.#emit('container', `health_status: ${health}`, c.id, c.spec.labels, { name: c.name });
    c.changed.notify();
  }

  simulateUnhealthy(idOrName: string): void {
    this.setHealth(idOrName, 'unhealthy');
  }

  /** A container cmesh did not create (no cmesh labels unless given) occupying a name. */
  addForeignContainer(name: string, opts: { labels?: Record<string, string>; running?: boolean } = {}): string {
    const c = this.#newContainer({
      name,
      image: 'foreign:latest',
      env: {},
      labels: opts.labels ?? {},
      ports: [],
      mounts: [],
      networks: [],
      init: false,
    });
    if (opts.running) this.#start(c);
    return c.id;
  }

  addImage(ref: string, labels: Record<string, string> = {}): ImageInfo {
    const info: ImageInfo = { id: `sha256:${fakeId('b', ++this.#seq)}`, tags: [withTag(ref)], labels };
    this.#images.set(withTag(ref), info);
    return info;
  }

  /** Appends a log line (as the container's app would print it). */
  emitLog(idOrName: string, text: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    const c = this.#mustFind(idOrName);
    c.logs.push({ stream, time: this.now(), text });
    c.changed.notify();
  }

  setExecHandler(handler: ExecHandler): void {
    this.#execHandler = handler;
  }

  /** What the next builds produce: progress items (a `done` is appended if missing) or a failure. */
  setBuildScript(script: BuildProgress[] | { fail: string; output?: string[] } | undefined): void {
    this.#buildScript = script;
  }

  container(idOrName: string): FakeContainer | undefined {
    return this.#find(idOrName);
  }

  get containerCount(): number {
    return this.#containers.size;
  }

  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  // ---- ContainerEngine --------------------------------------------------------------------------------------------

  async ping(): Promise<EngineInfo> {
    this.#enter('ping', []);
    return { version: 'fake', apiVersion: '1.41', os: 'linux', host: 'fake://' };
  }

  async listContainers(filter: ContainerFilter): Promise<ContainerInfo[]> {
    this.#enter('listContainers', [filter]);
    return [...this.#containers.values()]
      .filter((c) => (filter.all ?? true) || c.state === 'running' || c.state === 'paused')
      .filter((c) => matches(c.spec.labels, filter.labels))
      .map((c) => this.#info(c));
  }

  async inspectContainer(id: string): Promise<ContainerInfo | undefined> {
    this.#enter('inspectContainer', [id]);
    const c = this.#find(id);
    return c && this.#info(c);
  }

  async createContainer(spec: ContainerCreateSpec): Promise<{ id: string }> {
    this.#enter('createContainer', [spec]);
    const ctx = { op: 'create' as const, subject: spec.name, image: spec.image };
    const existing = this.#find(spec.name);
    if (existing) {
      throw this.#engineError(409, `Conflict. The container name "/${spec.name}" is already in use by container "${existing.id}".`, {
        ...ctx,
        existingId: existing.id,
      });
    }
    if (this.#opts.strictImages && !this.#images.has(withTag(spec.image))) {
      throw this.#engineError(404, `No such image: ${withTag(spec.image)}`, ctx);
    }
    for (const net of spec.networks) {
      if (!this.#networks.has(net.name)) throw this.#engineError(404, `network ${net.name} not found`, ctx);
    }
    for (const m of spec.mounts) {
      if (m.type === 'volume' && m.source && !this.#volumes.has(m.source)) {
        // The engine creates a missing named volume on the fly, without labels.
        this.#volumes.set(m.source, { name: m.source, labels: {} });
      }
    }
    return { id: this.#newContainer(spec).id };
  }

  async startContainer(id: string): Promise<void> {
    this.#enter('startContainer', [id]);
    const c = this.#find(id);
    if (!c) throw this.#engineError(404, `No such container: ${id}`, { op: 'start', subject: id });
    if (c.state === 'running') return this.#benign('start', 304);
    if (c.state === 'paused') {
      throw this.#engineError(409, 'cannot start a paused container, try unpause instead', { op: 'start', subject: id });
    }
    this.#start(c);
  }

  async stopContainer(id: string, timeoutSec?: number): Promise<void> {
    this.#enter('stopContainer', [id, timeoutSec]);
    const c = this.#find(id);
    if (!c) return this.#benign('stop', 404);
    if (c.state !== 'running' && c.state !== 'paused') return this.#benign('stop', 304);
    this.#emit('container', 'kill', c.id, c.spec.labels, { name: c.name, signal: c.spec.stopSignal ?? 'SIGTERM' });
    this.#exit(c, this.#opts.stopExitCode);
    this.#emit('container', 'stop', c.id, c.spec.labels, { name: c.name });
  }

  async killContainer(id: string, signal = 'SIGKILL'): Promise<void> {
    this.#enter('killContainer', [id, signal]);
    const c = this.#find(id);
    if (!c) return this.#benign('kill', 404);
    if (c.state !== 'running' && c.state !== 'paused') return this.#benign('kill', 409, 'Container is not running');
    this.#emit('container', 'kill', c.id, c.spec.labels, { name: c.name, signal });
    this.#exit(c, 128 + (SIGNALS[signal.toUpperCase()] ?? SIGNALS[`SIG${signal.toUpperCase()}`] ?? 9));
  }

  async removeContainer(id: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    this.#enter('removeContainer', [id, options]);
    const c = this.#find(id);
    if (!c) return this.#benign('remove', 404);
    if ((c.state === 'running' || c.state === 'paused') && !options.force) {
      throw this.#engineError(
        409,
        `You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`,
        { op: 'remove', subject: id },
      );
    }
    if (c.state === 'running' || c.state === 'paused') this.#exit(c, 137, 'kill');
    this.#containers.delete(c.id);
    this.#emit('container', 'destroy', c.id, c.spec.labels, { name: c.name });
    c.changed.notify();
  }

  async renameContainer(id: string, name: string): Promise<void> {
    this.#enter('renameContainer', [id, name]);
    const c = this.#find(id);
    if (!c) throw this.#engineError(404, `No such container: ${id}`, { op: 'rename', subject: id });
    const taken = this.#find(name);
    if (taken && taken !== c) {
      throw this.#engineError(409, `Conflict. The container name "/${name}" is already in use by container "${taken.id}".`, {
        op: 'rename',
        subject: id,
      });
    }
    c.name = name;
    this.#emit('container', 'rename', c.id, c.spec.labels, { name });
    c.changed.notify();
  }

  async pauseContainer(id: string): Promise<void> {
    this.#enter('pauseContainer', [id]);
    const c = this.#find(id);
    if (!c) throw this.#engineError(404, `No such container: ${id}`, { op: 'pause', subject: id });
    if (c.state === 'paused') return this.#benign('pause', 409, `Container ${c.id} is already paused`);
    if (c.state !== 'running') throw this.#engineError(409, `Container ${c.id} is not running`, { op: 'pause', subject: id });
    c.state = 'paused';
    this.#emit('container', 'pause', c.id, c.spec.labels, { name: c.name });
    c.changed.notify();
  }

  async unpauseContainer(id: string): Promise<void> {
    this.#enter('unpauseContainer', [id]);
    const c = this.#find(id);
    if (!c) throw this.#engineError(404, `No such container: ${id}`, { op: 'unpause', subject: id });
    if (c.state !== 'paused') return this.#benign('unpause', 409, `Container ${c.id} is not paused`);
    c.state = 'running';
    this.#emit('container', 'unpause', c.id, c.spec.labels, { name: c.name });
    c.changed.notify();
  }

  async *containerLogs(id: string, options: LogOptions): AsyncIterable<LogLine> {
    this.#enter('containerLogs', [id, { follow: options.follow, tail: options.tail, since: options.since }]);
    const c = this.#find(id);
    if (!c || options.signal?.aborted) return;
    let lines = c.logs.filter((l) => options.since === undefined || l.time >= options.since);
    if (options.tail !== undefined) lines = options.tail === 0 ? [] : lines.slice(-options.tail);
    let next = c.logs.length;
    yield* lines;
    if (!options.follow) return;
    while (!options.signal?.aborted) {
      while (next < c.logs.length) yield c.logs[next++]!;
      // Like the engine, a follow ends when the container stops (or disappears).
      if (c.state !== 'running' && c.state !== 'paused') return;
      if (!this.#containers.has(c.id)) return;
      await c.changed.wait(options.signal);
    }
  }

  async putArchive(id: string, path: string, tar: Readable): Promise<void> {
    this.#enter('putArchive', [id, path]);
    const c = this.#find(id);
    if (!c) throw this.#engineError(404, `No such container: ${id}`, { op: 'archive', subject: id });
    let bytes = 0;
    for await (const chunk of tar) bytes += (chunk as Buffer).length;
    this.archives.push({ id: c.id, path, bytes });
  }

  async exec(id: string, command: string[]): Promise<{ exitCode: number; output: string }> {
    this.#enter('exec', [id, command]);
    const c = this.#find(id);
    if (!c) throw this.#engineError(404, `No such container: ${id}`, { op: 'exec', subject: id });
    if (c.state !== 'running') throw this.#engineError(409, `Container ${c.id} is not running`, { op: 'exec', subject: id });
    return this.#execHandler(c, command);
  }

  async listNetworks(labels: Record<string, string | true>): Promise<NetworkInfo[]> {
    this.#enter('listNetworks', [labels]);
    return [...this.#networks.values()].filter((n) => matches(n.labels, labels)).map((n) => ({ ...n }));
  }

  async inspectNetwork(name: string): Promise<NetworkInfo | undefined> {
    this.#enter('inspectNetwork', [name]);
    const n = this.#networks.get(name) ?? [...this.#networks.values()].find((x) => x.id === name);
    return n && { ...n };
  }

  async createNetwork(spec: NetworkCreateSpec): Promise<NetworkInfo> {
    this.#enter('createNetwork', [spec]);
    const existing = this.#networks.get(spec.name);
    if (existing) {
      if (existing.labels[Labels.project] === spec.labels[Labels.project]) return { ...existing };
      throw this.#engineError(409, `network with name ${spec.name} already exists`, {
        op: 'network-create',
        subject: spec.name,
        existingId: existing.id,
      });
    }
    const info: NetworkInfo = { id: fakeId('a', ++this.#seq), name: spec.name, labels: { ...spec.labels } };
    this.#networks.set(spec.name, info);
    this.#emit('network', 'create', info.id, info.labels, { name: spec.name });
    return { ...info };
  }

  async removeNetwork(name: string): Promise<void> {
    this.#enter('removeNetwork', [name]);
    const n = this.#networks.get(name);
    if (!n) return this.#benign('network-remove', 404);
    const attached = [...this.#containers.values()].some(
      (c) => (c.state === 'running' || c.state === 'paused') && c.networks.includes(name),
    );
    if (attached) {
      throw this.#engineError(403, `error while removing network: network ${name} id ${n.id} has active endpoints`, {
        op: 'network-remove',
        subject: name,
      });
    }
    this.#networks.delete(name);
    this.#emit('network', 'destroy', n.id, n.labels, { name });
  }

  async listVolumes(labels: Record<string, string | true>): Promise<VolumeInfo[]> {
    this.#enter('listVolumes', [labels]);
    return [...this.#volumes.values()].filter((v) => matches(v.labels, labels)).map((v) => ({ ...v }));
  }

  async inspectVolume(name: string): Promise<VolumeInfo | undefined> {
    this.#enter('inspectVolume', [name]);
    const v = this.#volumes.get(name);
    return v && { ...v };
  }

  async createVolume(spec: VolumeCreateSpec): Promise<VolumeInfo> {
    this.#enter('createVolume', [spec]);
    const existing = this.#volumes.get(spec.name);
    if (existing) {
      if (existing.labels[Labels.project] === spec.labels[Labels.project]) return { ...existing };
      throw new CmeshError('CMESH_E_NAME_CONFLICT', `volume name "${spec.name}" is already in use by another project`, {
        details: { op: 'volume-create', name: spec.name, existingId: spec.name },
      });
    }
    const info: VolumeInfo = { name: spec.name, labels: { ...spec.labels } };
    this.#volumes.set(spec.name, info);
    this.#emit('volume', 'create', spec.name, info.labels, {});
    return { ...info };
  }

  async removeVolume(name: string): Promise<void> {
    this.#enter('removeVolume', [name]);
    const v = this.#volumes.get(name);
    if (!v) return this.#benign('volume-remove', 404);
    const users = [...this.#containers.values()].filter((c) => c.spec.mounts.some((m) => m.type === 'volume' && m.source === name));
    if (users.length > 0) {
      throw this.#engineError(409, `remove ${name}: volume is in use - [${users.map((c) => c.id).join(', ')}]`, {
        op: 'volume-remove',
        subject: name,
      });
    }
    this.#volumes.delete(name);
    this.#emit('volume', 'destroy', name, v.labels, {});
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    this.#enter('inspectImage', [ref]);
    if (!this.#opts.strictImages && !this.#images.has(withTag(ref))) return this.addImage(ref);
    const img = this.#images.get(withTag(ref)) ?? [...this.#images.values()].find((i) => i.id === ref);
    return img && { ...img, tags: [...img.tags] };
  }

  async removeImage(ref: string): Promise<void> {
    this.#enter('removeImage', [ref]);
    if (!this.#images.has(withTag(ref))) return this.#benign('image-remove', 404);
    this.#images.delete(withTag(ref));
  }

  pullImage(options: PullOptions): AsyncIterable<PullProgress> {
    return this.registry.pull(options, (ref) => this.addImage(ref));
  }

  async *buildImage(options: BuildOptions): AsyncIterable<BuildProgress> {
    this.#enter('buildImage', [{ dockerfile: options.dockerfile, tags: options.tags, args: options.args, target: options.target }]);
    for await (const _ of options.context) {
      // Drain the context like the engine does, so the builder's tar stream finishes.
    }
    const script = this.#buildScript ?? [{ kind: 'step', step: 1, total: 1, text: 'FROM scratch' }];
    if (!Array.isArray(script)) {
      yield { kind: 'step', step: 1, total: 1, text: 'RUN false' };
      for (const text of script.output ?? []) yield { kind: 'output', text };
      yield { kind: 'error', message: script.fail };
      throw buildFailure(script.fail, { step: 1, total: 1, instruction: 'RUN false', output: script.output ?? [] });
    }
    for (const p of script) {
      if (options.signal?.aborted) return;
      if (p.kind !== 'done') yield p;
    }
    const id = `sha256:${fakeId('b', ++this.#seq)}`;
    for (const tag of options.tags) this.#images.set(withTag(tag), { id, tags: [...options.tags], labels: options.labels ?? {} });
    yield { kind: 'done', imageId: id };
  }

  async *events(options: { signal: AbortSignal; since?: number }): AsyncIterable<EngineEvent> {
    this.#enter('events', [{ since: options.since }]);
    const sub = new Subscription<EngineEvent>();
    if (options.since !== undefined) {
      for (const e of this.#history) if (e.time >= options.since && visible(e)) sub.push(e);
    }
    this.#subscribers.add(sub);
    try {
      yield* sub.iterate(options.signal);
    } finally {
      this.#subscribers.delete(sub);
    }
  }

  // ---- internals --------------------------------------------------------------------------------------------------

  #enter(method: string, args: unknown[]): void {
    this.calls.push({ method, args, time: this.now() });
    const queue = this.#failures.get(method);
    const head = queue?.[0];
    if (queue && head) {
      if (--head.times <= 0) queue.shift();
      throw head.error;
    }
    if (this.#down) throw this.#unavailable();
  }

  #unavailable(): CmeshError {
    return translateEngineError(Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' }), {
      op: 'ping',
      host: 'fake://',
    });
  }

  /** Builds the error the real adapter would produce from this engine status + message. */
  #engineError(status: number, message: string, ctx: Parameters<typeof translateEngineError>[1]): CmeshError {
    return translateEngineError(Object.assign(new Error(`(HTTP code ${status}) fake - ${message}`), { statusCode: status }), ctx);
  }

  /** Asserts the status really is benign for the op in the shared table, so the fake cannot drift from the adapter. */
  #benign(op: EngineOp, status: number, message = ''): void {
    if (!isBenign(op, { status, message })) throw this.#engineError(status, message, { op });
  }

  #find(idOrName: string): FakeContainer | undefined {
    const byId = this.#containers.get(idOrName);
    if (byId) return byId;
    const name = idOrName.replace(/^\//, '');
    for (const c of this.#containers.values()) if (c.name === name) return c;
    if (idOrName.length >= 4) {
      const matchesPrefix = [...this.#containers.values()].filter((c) => c.id.startsWith(idOrName));
      if (matchesPrefix.length === 1) return matchesPrefix[0];
    }
    return undefined;
  }

  #mustFind(idOrName: string): FakeContainer {
    const c = this.#find(idOrName);
    if (!c) throw new Error(`fake engine: no container ${idOrName}`);
    return c;
  }

  #newContainer(spec: ContainerCreateSpec): FakeContainer {
    const c: FakeContainer = {
      id: fakeId('c', ++this.#seq),
      name: spec.name,
      spec: structuredClone(spec),
      state: 'created',
      health: 'none',
      createdAt: this.now(),
      restartCount: 0,
      endpoints: [],
      logs: [],
      networks: spec.networks.map((n) => n.name),
      changed: new Notifier(),
    };
    this.#containers.set(c.id, c);
    this.#emit('container', 'create', c.id, c.spec.labels, { name: c.name, image: spec.image });
    return c;
  }

  #start(c: FakeContainer): void {
    c.state = 'running';
    c.startedAt = this.now();
    c.exitCode = undefined;
    c.finishedAt = undefined;
    c.health = c.spec.healthcheck && !c.spec.healthcheck.disable ? 'starting' : 'none';
    // Engine-assigned host ports change on every start, as with Docker.
    c.endpoints = c.spec.ports.map((p) => ({ ...p, host: '127.0.0.1', hostPort: this.#nextPort++ }));
    this.#emit('container', 'start', c.id, c.spec.labels, { name: c.name });
    c.changed.notify();
  }

  #exit(c: FakeContainer, code: number, precedingAction?: string): void {
    if (precedingAction) this.#emit('container', precedingAction, c.id, c.spec.labels, { name: c.name });
    c.state = 'exited';
    c.exitCode = code;
    c.finishedAt = this.now();
    c.endpoints = [];
    if (c.health !== 'none') c.health = 'unhealthy';
    this.#emit('container', 'die', c.id, c.spec.labels, { name: c.name, exitCode: String(code) });
    c.changed.notify();
  }

  #info(c: FakeContainer): ContainerInfo {
    return {
      id: c.id,
      name: c.name,
      image: c.spec.image,
      state: c.state,
      health: c.health,
      labels: { ...c.spec.labels },
      createdAt: c.createdAt,
      ...(c.startedAt === undefined ? {} : { startedAt: c.startedAt }),
      ...(c.finishedAt === undefined ? {} : { finishedAt: c.finishedAt }),
      ...(c.exitCode === undefined ? {} : { exitCode: c.exitCode }),
      restartCount: c.restartCount,
      endpoints: c.endpoints.map((e) => ({ ...e })),
    };
  }

  #emit(
    type: EngineEvent['type'],
    action: string,
    id: string,
    labels: Record<string, string>,
    extra: Record<string, string>,
  ): void {
    const event: EngineEvent = { type, action, id, labels: { ...labels }, attributes: { ...labels, ...extra }, time: this.now() };
    this.#history.push(event);
    if (!visible(event)) return;
    for (const sub of this.#subscribers) sub.push(event);
  }
}

/** Same filter the adapter asks the engine for: only cmesh-managed containers, networks and volumes. */
function visible(e: EngineEvent): boolean {
  return e.labels[Labels.managed] === 'true' && e.type !== 'image';
}

function matches(labels: Record<string, string>, query: Record<string, string | true>): boolean {
  return Object.entries(query).every(([k, v]) => (v === true ? k in labels : labels[k] === v));
}

function withTag(ref: string): string {
  if (ref.startsWith('sha256:')) return ref;
  const lastSlash = ref.lastIndexOf('/');
  return ref.slice(lastSlash + 1).includes(':') ? ref : `${ref}:latest`;
}
