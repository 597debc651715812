// Which projects the shared gateway serves: every `<root>/<project>/gw.sock` the daemon listens on. A directory
// watch finds them at once, a rescan every 2 s catches what a watch misses. A project is gone only once its directory
// is: a socket file missing from a directory still there is a daemon restarting, and callers keep being served.

import { existsSync, type FSWatcher, readdirSync, watch } from 'node:fs';
import { join } from 'node:path';
import { GATEWAY_SOCKET_FILE } from '../../daemon/api/east-west.ts';

export interface ProjectSocketsOptions {
  root: string;
  signal: AbortSignal;
  /** A project's socket appeared (its directory holds gw.sock). */
  onAdd: (project: string, socket: string) => void;
  /** A known project's directory is gone (`down` removed it). */
  onRemove: (project: string) => void;
  rescanMs?: number;
}

/** Projects' directories under `root` holding a socket now, and those without one (not a project yet). */
function list(root: string): { withSocket: string[]; without: string[] } {
  const withSocket: string[] = [];
  const without: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    // The root is not there (yet): no project.
  }
  for (const name of entries) (existsSync(join(root, name, GATEWAY_SOCKET_FILE)) ? withSocket : without).push(name);
  return { withSocket, without };
}

export class ProjectSockets {
  readonly #o: ProjectSocketsOptions;
  readonly #known = new Set<string>();
  /** Directories without a socket yet: each watched on its own, so a socket made in it is found at once. */
  readonly #pending = new Map<string, FSWatcher>();
  #root: FSWatcher | undefined;

  /** Scans once before it returns: `projects()` then holds the first scan's. */
  constructor(options: ProjectSocketsOptions) {
    this.#o = options;
    this.scan();
    this.#root = this.#watch(options.root);
    const timer = setInterval(() => this.scan(), options.rescanMs ?? 2000);
    options.signal.addEventListener(
      'abort',
      () => {
        clearInterval(timer);
        this.#root?.close();
        for (const w of this.#pending.values()) w.close();
        this.#pending.clear();
      },
      { once: true },
    );
  }

  projects(): string[] {
    return [...this.#known];
  }

  scan(): void {
    if (this.#o.signal.aborted) return;
    const { withSocket, without } = list(this.#o.root);
    const here = new Set([...withSocket, ...without]);
    for (const name of withSocket) {
      this.#unwatch(name);
      if (this.#known.has(name)) continue;
      this.#known.add(name);
      this.#o.onAdd(name, join(this.#o.root, name, GATEWAY_SOCKET_FILE));
    }
    for (const name of [...this.#known]) {
      if (here.has(name)) continue;
      this.#known.delete(name);
      this.#o.onRemove(name);
    }
    for (const name of without) if (!this.#known.has(name) && !this.#pending.has(name)) this.#watchPending(name);
    for (const name of [...this.#pending.keys()]) if (!here.has(name)) this.#unwatch(name);
  }

  #watchPending(name: string): void {
    const w = this.#watch(join(this.#o.root, name));
    if (w) this.#pending.set(name, w);
  }

  #unwatch(name: string): void {
    this.#pending.get(name)?.close();
    this.#pending.delete(name);
  }

  /** A watch that rescans on any change; none where it cannot be set up (the rescan still finds everything). */
  #watch(path: string): FSWatcher | undefined {
    try {
      const w = watch(path, { persistent: false }, () => this.scan());
      w.on('error', () => w.close());
      return w;
    } catch {
      return undefined;
    }
  }
}
