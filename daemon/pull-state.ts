// When cmesh last pulled each image, kept in CMESH_HOME so `daily`/`weekly`/`every_<d>` policies survive restarts.

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface PullTimes {
  get(image: string): Promise<number | undefined>;
  set(image: string, at: number): Promise<void>;
}

/** A JSON file `{ "<image>": <epoch ms> }`, rewritten through a tmp file and a rename so a crash never truncates it. */
export class PullStateFile implements PullTimes {
  readonly #file: string;
  #cache: Record<string, number> | undefined;
  /** Writes are chained so parallel pulls never interleave their renames. */
  #writing: Promise<void> = Promise.resolve();

  constructor(file: string) {
    this.#file = file;
  }

  async get(image: string): Promise<number | undefined> {
    return (await this.#load())[image];
  }

  set(image: string, at: number): Promise<void> {
    this.#writing = this.#writing.then(async () => {
      const all = { ...(await this.#load()), [image]: at };
      this.#cache = all;
      await mkdir(dirname(this.#file), { recursive: true, mode: 0o700 });
      const tmp = `${this.#file}.${process.pid}.tmp`;
      await writeFile(tmp, `${JSON.stringify(all)}\n`, { mode: 0o600 });
      await rename(tmp, this.#file);
    });
    return this.#writing;
  }

  async #load(): Promise<Record<string, number>> {
    if (this.#cache) return this.#cache;
    try {
      const parsed: unknown = JSON.parse(await readFile(this.#file, 'utf8'));
      const out: Record<string, number> = {};
      if (parsed && typeof parsed === 'object') {
        for (const [k, v] of Object.entries(parsed)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
      }
      this.#cache = out;
    } catch {
      // Missing or damaged: every periodic policy pulls once more, which is the safe side.
      this.#cache = {};
    }
    return this.#cache;
  }
}

/** In-memory times, for tests and daemons without a home. */
export class MemoryPullTimes implements PullTimes {
  readonly times = new Map<string, number>();
  async get(image: string): Promise<number | undefined> {
    return this.times.get(image);
  }
  async set(image: string, at: number): Promise<void> {
    this.times.set(image, at);
  }
}
