// The fake engine's container operations: the same state machine, idempotency and error statuses as Docker's.

import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { extract as tarExtract } from 'tar-stream';
import type { ContainerCreateSpec, ContainerFilter, ContainerInfo, ExecOptions, ExecResult, LogLine, LogOptions, ProcessList } from '../api/engine.ts';
import { waitLimit } from './stream-util.ts';
import { type ExecHandler, type FakeContainer, type FakeCore, matches } from './fake-core.ts';
import { withLatestTag } from '../api/engine-images.ts';

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15 };

const live = (c: FakeContainer) => c.state === 'running' || c.state === 'paused';

export class FakeContainers {
  readonly #f: FakeCore;
  readonly archives: { id: string; path: string; bytes: number }[] = [];
  execHandler: ExecHandler = () => ({ exitCode: 0, output: '' });

  constructor(core: FakeCore) {
    this.#f = core;
  }

  async list(filter: ContainerFilter): Promise<ContainerInfo[]> {
    this.#f.enter('listContainers', [filter]);
    return [...this.#f.containers.values()]
      .filter((c) => (filter.all ?? true) || live(c))
      .filter((c) => matches(c.spec.labels, filter.labels))
      .map((c) => this.#listed(c));
  }

  /** As the engine's list: no StartedAt to rely on, but a status that says how long the run has lasted (whole seconds). */
  #listed(c: FakeContainer): ContainerInfo {
    const info = this.#f.info(c);
    if (!live(c) || c.startedAt === undefined) return info;
    return { ...info, upForMs: Math.floor(Math.max(0, this.#f.now() - c.startedAt) / 1000) * 1000 };
  }

  async inspect(id: string): Promise<ContainerInfo | undefined> {
    this.#f.enter('inspectContainer', [id]);
    const c = this.#f.find(id);
    return c && this.#f.info(c, true);
  }

  async create(spec: ContainerCreateSpec): Promise<{ id: string }> {
    const f = this.#f;
    f.enter('createContainer', [spec]);
    const ctx = { op: 'create' as const, subject: spec.name, image: spec.image };
    const existing = f.find(spec.name);
    if (existing) {
      throw f.engineError(409, `Conflict. The container name "/${spec.name}" is already in use by container "${existing.id}".`, {
        ...ctx,
        existingId: existing.id,
      });
    }
    if (f.opts.strictImages && !f.images.has(withLatestTag(spec.image))) {
      throw f.engineError(404, `No such image: ${withLatestTag(spec.image)}`, ctx);
    }
    for (const m of spec.mounts) {
      // The engine runs on this host, so a bind source is checked where the real engine would look; a `Binds` string
      // (createHostPath) makes the engine create it instead.
      if (m.type === 'bind' && m.source && !m.createHostPath && !existsSync(m.source)) {
        throw f.engineError(400, `invalid mount config for type "bind": bind source path does not exist: ${m.source}`, ctx);
      }
      if (m.type === 'volume' && m.source && !f.volumes.has(m.source)) {
        // The engine creates a missing named volume on the fly, with the mount's VolumeOptions.Labels if any.
        f.volumes.set(m.source, { name: m.source, labels: { ...m.volumeLabels } });
      }
    }
    return { id: f.newContainer(spec).id };
  }

  async start(id: string): Promise<void> {
    const f = this.#f;
    f.enter('startContainer', [id]);
    const c = f.find(id);
    if (!c) throw f.engineError(404, `No such container: ${id}`, { op: 'start', subject: id });
    if (c.state === 'running') return f.benign('start', 304);
    if (c.state === 'paused') {
      throw f.engineError(409, 'cannot start a paused container, try unpause instead', { op: 'start', subject: id });
    }
    // The engine resolves networks at start, not at create or connect: a missing one fails here.
    const missing = c.networks.find((n) => !f.networks.has(n));
    if (missing) throw f.engineError(404, `network ${missing} not found`, { op: 'start', subject: id });
    f.start(c);
  }

  async stop(id: string, timeoutSec?: number): Promise<void> {
    const f = this.#f;
    f.enter('stopContainer', [id, timeoutSec]);
    const c = f.find(id);
    if (!c) return f.benign('stop', 404);
    if (!live(c)) return f.benign('stop', 304);
    f.emit('container', 'kill', c, { signal: c.spec.stopSignal ?? 'SIGTERM' });
    f.exit(c, f.opts.stopExitCode);
    f.emit('container', 'stop', c);
  }

  async kill(id: string, signal = 'SIGKILL'): Promise<void> {
    const f = this.#f;
    f.enter('killContainer', [id, signal]);
    const c = f.find(id);
    if (!c) return f.benign('kill', 404);
    if (!live(c)) return f.benign('kill', 409, 'Container is not running');
    f.emit('container', 'kill', c, { signal });
    f.exit(c, 128 + (SIGNALS[signal.toUpperCase()] ?? SIGNALS[`SIG${signal.toUpperCase()}`] ?? 9));
  }

  async remove(id: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const f = this.#f;
    f.enter('removeContainer', [id, options]);
    const c = f.find(id);
    if (!c) return f.benign('remove', 404);
    if (live(c) && !options.force) {
      throw f.engineError(
        409,
        `You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`,
        { op: 'remove', subject: id },
      );
    }
    this.destroy(c);
  }

  /** Gone from the engine: killed first when it runs (force remove, or `docker rm -f` behind cmesh's back). */
  destroy(c: FakeContainer): void {
    if (live(c)) this.#f.exit(c, 137, 'kill');
    // An auto-removed container is gone with its exit already.
    if (this.#f.containers.delete(c.id)) this.#f.emit('container', 'destroy', c);
    c.changed.notify();
  }

  async rename(id: string, name: string): Promise<void> {
    const f = this.#f;
    f.enter('renameContainer', [id, name]);
    const c = f.find(id);
    if (!c) throw f.engineError(404, `No such container: ${id}`, { op: 'rename', subject: id });
    const taken = f.find(name);
    if (taken && taken !== c) {
      throw f.engineError(409, `Conflict. The container name "/${name}" is already in use by container "${taken.id}".`, {
        op: 'rename',
        subject: id,
      });
    }
    c.name = name;
    f.emit('container', 'rename', c);
    c.changed.notify();
  }

  async pause(id: string): Promise<void> {
    const f = this.#f;
    f.enter('pauseContainer', [id]);
    const c = f.find(id);
    if (!c) throw f.engineError(404, `No such container: ${id}`, { op: 'pause', subject: id });
    if (c.state === 'paused') return f.benign('pause', 409, `Container ${c.id} is already paused`);
    if (c.state !== 'running') throw f.engineError(409, `Container ${c.id} is not running`, { op: 'pause', subject: id });
    c.state = 'paused';
    f.emit('container', 'pause', c);
    c.changed.notify();
  }

  async unpause(id: string): Promise<void> {
    const f = this.#f;
    f.enter('unpauseContainer', [id]);
    const c = f.find(id);
    if (!c) throw f.engineError(404, `No such container: ${id}`, { op: 'unpause', subject: id });
    if (c.state !== 'paused') return f.benign('unpause', 409, `Container ${c.id} is not paused`);
    c.state = 'running';
    f.emit('container', 'unpause', c);
    c.changed.notify();
  }

  /** Docker's default `ps -ef` columns; the fake's one process is the container's command (or its image's). */
  async top(id: string): Promise<ProcessList> {
    const f = this.#f;
    f.enter('topContainer', [id]);
    const c = f.find(id);
    if (!c) throw f.engineError(404, `No such container: ${id}`, { op: 'top', subject: id });
    if (!live(c)) throw f.engineError(409, `Container ${c.id} is not running`, { op: 'top', subject: id });
    const cmd = [...(c.spec.entrypoint ?? []), ...(c.spec.command ?? [])].join(' ') || c.spec.image;
    return { titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], processes: [['root', '1', '0', '0', '00:00', '?', '00:00:00', cmd]] };
  }

  async *logs(id: string, options: LogOptions): AsyncIterable<LogLine> {
    this.#f.enter('containerLogs', [id, { follow: options.follow, tail: options.tail, since: options.since }]);
    const c = this.#f.find(id);
    if (!c || options.signal?.aborted) return;
    let lines = c.logs.filter((l) => options.since === undefined || l.time >= options.since);
    if (options.tail !== undefined) lines = options.tail === 0 ? [] : lines.slice(-options.tail);
    let next = c.logs.length;
    yield* lines;
    if (!options.follow) return;
    while (!options.signal?.aborted) {
      while (next < c.logs.length) yield c.logs[next++]!;
      // Like the engine, a follow ends when the container stops (or disappears).
      if (!live(c)) return;
      if (!this.#f.containers.has(c.id)) return;
      await c.changed.wait(options.signal);
    }
  }

  async putArchive(id: string, path: string, tar: Readable): Promise<void> {
    this.#f.enter('putArchive', [id, path]);
    const c = this.#f.find(id);
    if (!c) throw this.#f.engineError(404, `No such container: ${id}`, { op: 'archive', subject: id });
    let bytes = 0;
    const extract = tarExtract();
    const done = (async () => {
      for await (const entry of extract) {
        const parts: Buffer[] = [];
        for await (const chunk of entry) parts.push(chunk as Buffer);
        if (entry.header.type === 'file') c.files.set(posix.join(path, entry.header.name), Buffer.concat(parts));
      }
    })();
    for await (const chunk of tar) {
      bytes += (chunk as Buffer).length;
      extract.write(chunk);
    }
    extract.end(() => undefined);
    await done;
    this.archives.push({ id: c.id, path, bytes });
  }

  async exec(id: string, command: string[], options: ExecOptions = {}): Promise<ExecResult> {
    // Recorded without options when there are none, so calls recorded before options existed read the same.
    this.#f.enter('exec', Object.keys(options).length === 0 ? [id, command] : [id, command, options]);
    const c = this.#f.find(id);
    if (!c) throw this.#f.engineError(404, `No such container: ${id}`, { op: 'exec', subject: id });
    if (c.state !== 'running') throw this.#f.engineError(409, `Container ${c.id} is not running`, { op: 'exec', subject: id });
    let running = true;
    const run = Promise.resolve(this.execHandler(c, command, options)).finally(() => {
      running = false;
    });
    const gaveUp = waitLimit(options);
    try {
      const first = await Promise.race([run, gaveUp.promise]);
      if (first !== 'gave-up') return first;
      run.catch(() => undefined);
      return { exitCode: -1, output: '', timedOut: true, stillRunning: async () => running };
    } finally {
      gaveUp.dispose();
    }
  }
}
