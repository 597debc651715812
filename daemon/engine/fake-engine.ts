// An in-memory ContainerEngine for unit tests of plans and supervision: same idempotency and error codes as the real
// adapter (its failures go through the same translateEngineError), deterministic ids, a manual clock, fault injection.
// The engine contract (engine-contract.ts) runs against it and the real adapter alike; this file is the facade of
// test controls over the per-resource modules (fake-containers, fake-networks, fake-images), which PartsEngine
// (engine-parts.ts) forwards the port's calls to.

import type {
  ContainerEngine,
  ContainerHealth,
  EngineEvent,
  EngineInfo,
  ImageInfo,
  PullOptions,
  PullProgress,
} from '../api/engine.ts';
import type { CmeshError } from '../api/errors.ts';
import { PartsEngine } from './engine-parts.ts';
import { FakeContainers } from './fake-containers.ts';
import { FakeIo } from './fake-io.ts';
import { type ExecHandler, type FakeCall, type FakeContainer, FakeCore, type FakeEngineOptions, type StartHandler, visible } from './fake-core.ts';
import { type BuildScript, FakeImages } from './fake-images.ts';
import { FakeNetworks, FakeVolumes } from './fake-networks.ts';
import { Subscription } from './fake-signal.ts';
import { FakeRegistry } from './pull-fake.ts';

export type { ExecHandler, FakeCall, FakeContainer, FakeEngineOptions, StartHandler } from './fake-core.ts';

export class FakeEngine extends PartsEngine {
  /** What pullImage pulls from: tests add images, credentials and outages (pull-fake.ts). */
  readonly registry = new FakeRegistry();
  readonly #f: FakeCore;
  readonly #containers: FakeContainers;
  readonly #images: FakeImages;

  constructor(opts: FakeEngineOptions = {}) {
    const f = new FakeCore(opts);
    const containers = new FakeContainers(f);
    const images = new FakeImages(f);
    super({ containers, io: new FakeIo(f), networks: new FakeNetworks(f), volumes: new FakeVolumes(f), images });
    this.#f = f;
    this.#containers = containers;
    this.#images = images;
  }

  // ---- test controls ----------------------------------------------------------------------------------------------

  get calls(): FakeCall[] {
    return this.#f.calls;
  }

  get archives(): { id: string; path: string; bytes: number }[] {
    return this.#containers.archives;
  }

  now(): number {
    return this.#f.now();
  }

  /** Moves the clock forward (added on top of an external `now` hook). */
  advance(ms: number): void {
    this.#f.offset += ms;
  }

  callsOf(method: string): FakeCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  clearCalls(): void {
    this.calls.length = 0;
  }

  /** Every call fails with CMESH_E_ENGINE_UNAVAILABLE and open event streams end with it (the caller reconnects). */
  setEngineDown(down: boolean): void {
    this.#f.down = down;
    if (down) {
      for (const sub of this.#f.subscribers) sub.fail(this.#f.unavailable());
      this.#f.subscribers.clear();
    }
  }

  /** The next `times` calls of `method` throw `error`. */
  failNext(method: keyof ContainerEngine, error: CmeshError, times = 1): void {
    const list = this.#f.failures.get(method) ?? [];
    list.push({ error, times });
    this.#f.failures.set(method, list);
  }

  /** The next startContainer fails as the real engine does when a host port is taken. */
  simulatePortConflict(port: number): void {
    const message = `driver failed programming external connectivity: Bind for 127.0.0.1:${port} failed: port is already allocated`;
    this.failNext('startContainer', this.#f.engineError(500, message, { op: 'start' }));
  }

  /** The app crashed (or exited on its own) with `code`. */
  simulateExit(idOrName: string, code = 1): void {
    const c = this.#f.mustFind(idOrName);
    if (c.state !== 'running' && c.state !== 'paused') return;
    this.#f.exit(c, code);
  }

  /** Someone ran `docker rm -f` behind cmesh's back. */
  simulateRemoval(idOrName: string): void {
    this.#containers.destroy(this.#f.mustFind(idOrName));
  }

  setHealth(idOrName: string, health: ContainerHealth): void {
    const c = this.#f.mustFind(idOrName);
    if (c.health === health) return;
    c.health = health;
    this.#f.emit('container', `health_status: ${health}`, c);
    c.changed.notify();
  }

  simulateUnhealthy(idOrName: string): void {
    this.setHealth(idOrName, 'unhealthy');
  }

  /** A container cmesh did not create (no cmesh labels unless given) occupying a name. */
  addForeignContainer(name: string, opts: { labels?: Record<string, string>; running?: boolean } = {}): string {
    const spec = { name, image: 'foreign:latest', env: {}, labels: opts.labels ?? {}, ports: [], mounts: [], networks: [], init: false };
    const c = this.#f.newContainer(spec);
    if (opts.running) this.#f.start(c);
    return c.id;
  }

  addImage(ref: string, labels: Record<string, string> = {}, exposedPorts: ImageInfo['exposedPorts'] = []): ImageInfo {
    return this.#images.add(ref, labels, exposedPorts);
  }

  /** Appends a log line (as the container's app would print it). */
  emitLog(idOrName: string, text: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    const c = this.#f.mustFind(idOrName);
    c.logs.push({ stream, time: this.now(), text });
    c.changed.notify();
  }

  setExecHandler(handler: ExecHandler): void {
    this.#containers.execHandler = handler;
  }

  /** What a container's app does when started (print with emitLog, exit with simulateExit…); default nothing. */
  setStartHandler(handler: StartHandler): void {
    this.#f.onStart = handler;
  }

  /** What the next builds produce: progress items (a `done` is appended if missing) or a failure. */
  setBuildScript(script: BuildScript | undefined): void {
    this.#images.script = script;
  }

  container(idOrName: string): FakeContainer | undefined {
    return this.#f.find(idOrName);
  }

  get containerCount(): number {
    return this.#f.containers.size;
  }

  get subscriberCount(): number {
    return this.#f.subscribers.size;
  }

  // ---- ContainerEngine --------------------------------------------------------------------------------------------

  async ping(): Promise<EngineInfo> {
    this.#f.enter('ping', []);
    return { version: 'fake', apiVersion: '1.41', os: 'linux', host: 'fake://' };
  }

  pullImage(options: PullOptions): AsyncIterable<PullProgress> {
    return this.registry.pull(options, (ref) => this.addImage(ref));
  }

  async *events(options: { signal: AbortSignal; since?: number }): AsyncIterable<EngineEvent> {
    const f = this.#f;
    f.enter('events', [{ since: options.since }]);
    const sub = new Subscription<EngineEvent>();
    if (options.since !== undefined) {
      for (const e of f.history) if (e.time >= options.since && visible(e)) sub.push(e);
    }
    f.subscribers.add(sub);
    try {
      yield* sub.iterate(options.signal);
    } finally {
      f.subscribers.delete(sub);
    }
  }
}
