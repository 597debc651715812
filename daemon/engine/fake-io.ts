// The fake engine's interactive side: exec and attach sessions over the fake shell and the container's log, wait, and
// archives of the files putArchive stored. Same statuses as Docker's (the engine contract checks both).

import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import type { AttachOptions, ExecIoSpec, IoChunk, IoSession } from '../api/engine-io.ts';
import type { FakeContainer, FakeCore } from './fake-core.ts';
import { runShell } from './fake-shell.ts';

/** Directories every container of the fake has, as a busybox image's would (putArchive's usual targets). */
const IMAGE_DIRS = new Set(['/', '/tmp', '/etc']);

const live = (c: FakeContainer) => c.state === 'running' || c.state === 'paused' || c.state === 'restarting';

/** An unbounded chunk queue read by one consumer; `end` finishes it. */
class ChunkQueue {
  readonly #items: IoChunk[] = [];
  #ended = false;
  #wake: (() => void) | undefined;

  push(chunk: IoChunk): void {
    if (this.#ended) return;
    this.#items.push(chunk);
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async *iterate(): AsyncGenerator<IoChunk> {
    for (;;) {
      const item = this.#items.shift();
      if (item) yield item;
      else if (this.#ended) return;
      else await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
}

/** A TTY merges stderr into its one stream and turns LF into CRLF, as the kernel's line discipline does. */
function chunk(stream: 'stdout' | 'stderr', text: string, tty: boolean): IoChunk {
  if (!tty) return { stream, data: Buffer.from(text) };
  return { stream: 'stdout', data: Buffer.from(text.replace(/\n/g, '\r\n')) };
}

const isCat = (command: string[]) =>
  (command.length === 1 && command[0] === 'cat') || (command.length === 3 && command[1] === '-c' && command[2]?.trim() === 'cat');

export class FakeIo {
  readonly #f: FakeCore;

  constructor(core: FakeCore) {
    this.#f = core;
  }

  #running(id: string, op: 'exec' | 'attach'): FakeContainer {
    const c = this.#f.find(id);
    if (!c) throw this.#f.engineError(404, `No such container: ${id}`, { op, subject: id });
    if (op === 'exec' && c.state !== 'running') throw this.#f.engineError(409, `Container ${c.id} is not running`, { op, subject: id });
    return c;
  }

  async execIo(id: string, spec: ExecIoSpec): Promise<IoSession> {
    this.#f.enter('execIo', [id, spec]);
    this.#running(id, 'exec');
    const queue = new ChunkQueue();
    let settle!: (code: number) => void;
    const exited = new Promise<number>((resolve) => (settle = resolve));
    const cat = isCat(spec.command);
    const run = cat ? undefined : runShell(spec.command);
    const finish = (code: number) => {
      queue.end();
      settle(code);
    };
    if (spec.detach) {
      finish(0);
    } else if (run) {
      for (const line of run.output) queue.push(chunk(line.stream, `${line.text}\n`, spec.tty));
      // A script ending in `sleep` runs until the session is closed.
      if (run.exitCode !== undefined) finish(run.exitCode);
    }
    return {
      output: queue.iterate(),
      write: (data) => {
        if (!spec.stdin || !cat) return;
        queue.push(chunk('stdout', data.toString(), spec.tty));
      },
      endInput: () => {
        if (cat) finish(0);
      },
      resize: async () => undefined,
      exitCode: () => exited,
      close: () => finish(137),
    };
  }

  /** The container's log from now on, until it stops; its stdin goes nowhere (the fake's apps read none). */
  async attach(id: string, options: AttachOptions): Promise<IoSession> {
    this.#f.enter('attachContainer', [id, options]);
    const c = this.#running(id, 'attach');
    const queue = new ChunkQueue();
    const closed = new AbortController();
    void (async () => {
      let next = c.logs.length;
      // A created container is attached before start: wait for it to run and then to stop.
      while (!closed.signal.aborted) {
        while (next < c.logs.length) {
          const line = c.logs[next++]!;
          queue.push(chunk(line.stream, `${line.text}\n`, options.tty));
        }
        if (c.state === 'exited' || c.state === 'dead' || !this.#f.containers.has(c.id)) break;
        await c.changed.wait(closed.signal);
      }
      queue.end();
    })();
    return {
      output: queue.iterate(),
      write: () => undefined,
      endInput: () => undefined,
      resize: async () => undefined,
      exitCode: () => this.wait(id),
      close: () => closed.abort(),
    };
  }

  async wait(id: string): Promise<number> {
    this.#f.enter('waitContainer', [id]);
    const c = this.#f.find(id);
    if (!c) throw this.#f.engineError(404, `No such container: ${id}`, { op: 'wait', subject: id });
    while (live(c) && this.#f.containers.has(c.id)) await c.changed.wait();
    return c.exitCode ?? 0;
  }

  /** A tar of one stored file, or of a directory's stored files under its base name, like the engine's. */
  async getArchive(id: string, path: string): Promise<Readable> {
    this.#f.enter('getArchive', [id, path]);
    const c = this.#f.find(id);
    const subject = `${id}:${path}`;
    if (!c) throw this.#f.engineError(404, `No such container: ${id}`, { op: 'archive', subject });
    const wanted = posix.normalize(path).replace(/(.)\/$/, '$1');
    const base = posix.basename(wanted);
    const p = pack();
    const file = c.files.get(wanted);
    if (file) {
      p.entry({ name: base, mode: 0o644, mtime: new Date(0) }, file);
    } else {
      const inside = [...c.files].filter(([name]) => name.startsWith(`${wanted}/`)).sort(([a], [b]) => a.localeCompare(b));
      if (inside.length === 0 && !IMAGE_DIRS.has(wanted)) {
        throw this.#f.engineError(404, `Could not find the file ${path} in container ${c.id}`, { op: 'archive', subject });
      }
      p.entry({ name: `${base || '.'}/`, type: 'directory', mode: 0o755, mtime: new Date(0) });
      for (const [name, content] of inside) p.entry({ name: `${base}/${name.slice(wanted.length + 1)}`, mode: 0o644, mtime: new Date(0) }, content);
    }
    p.finalize();
    return p as unknown as Readable;
  }
}
