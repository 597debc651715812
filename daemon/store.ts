// Persists each project's desired state atomically (tmp + fsync + rename) so a crash never leaves half a file.

import { open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { DESIRED_STATE_VERSION, type DesiredProject } from './api/desired.ts';
import { CmeshError } from './api/errors.ts';

const SUFFIX = '.json';
const TMP_MARK = '.tmp-';

export interface StoreHooks {
  /** Test seam: runs after the tmp file is durable and before the rename, to simulate a crash there. */
  beforeRename?: (tmpPath: string) => void | Promise<void>;
}

/** Compose project names are [a-z0-9][a-z0-9_-]*; checking keeps a hostile name from escaping the directory. */
export function isValidProjectName(name: string): boolean {
  return /^[a-z0-9][a-z0-9_-]{0,62}$/.test(name);
}

function looksLikeDesired(value: unknown): value is DesiredProject {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<DesiredProject>;
  return (
    v.version === DESIRED_STATE_VERSION &&
    typeof v.generation === 'number' &&
    typeof v.project === 'object' &&
    v.project !== null &&
    typeof v.project.name === 'string' &&
    typeof v.project.services === 'object' &&
    typeof v.scale === 'object' &&
    Array.isArray(v.stopped) &&
    Array.isArray(v.selected)
  );
}

export class DesiredStore {
  readonly #dir: string;
  readonly #onCorrupt: (project: string, error: CmeshError) => void;
  readonly #hooks: StoreHooks;

  constructor(dir: string, onCorrupt: (project: string, error: CmeshError) => void, hooks: StoreHooks = {}) {
    this.#dir = dir;
    this.#onCorrupt = onCorrupt;
    this.#hooks = hooks;
  }

  pathOf(project: string): string {
    if (!isValidProjectName(project)) throw new CmeshError('CMESH_E_USAGE', `invalid project name "${project}"`);
    return join(this.#dir, project + SUFFIX);
  }

  /**
   * Reads every persisted project. Leftover tmp files (a crash before rename) are deleted: the previous complete
   * file is still in place. Unreadable files are moved aside and reported, never fatal: one bad file must not keep
   * the daemon (and every other project) down.
   */
  async loadAll(): Promise<Map<string, DesiredProject>> {
    const out = new Map<string, DesiredProject>();
    for (const entry of (await readdir(this.#dir)).sort()) {
      if (entry.includes(TMP_MARK)) {
        await rm(join(this.#dir, entry), { force: true });
        continue;
      }
      if (!entry.endsWith(SUFFIX)) continue;
      const name = entry.slice(0, -SUFFIX.length);
      if (!isValidProjectName(name)) continue;
      const desired = await this.load(name);
      if (desired) out.set(name, desired);
    }
    return out;
  }

  async load(project: string): Promise<DesiredProject | undefined> {
    const path = this.pathOf(project);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let reason: string | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      if (looksLikeDesired(parsed) && parsed.project.name === project) return parsed;
      const version = (parsed as { version?: unknown } | null)?.version;
      reason = version !== DESIRED_STATE_VERSION ? `unsupported version ${String(version)}` : 'unexpected shape';
    } catch (err) {
      reason = `invalid JSON: ${(err as Error).message}`;
    }
    const aside = `${path}.corrupt-${Date.now()}`;
    await rename(path, aside).catch(() => undefined);
    this.#onCorrupt(
      project,
      new CmeshError('CMESH_E_CONFIG', `desired state of project "${project}" is unreadable (${reason}); moved aside`, {
        hint: `the bad file is kept at ${aside}; run \`cmesh up\` again to rewrite the project's state`,
        details: { file: aside },
      }),
    );
    return undefined;
  }

  async save(desired: DesiredProject): Promise<void> {
    const path = this.pathOf(desired.project.name);
    const tmp = `${path}${TMP_MARK}${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(JSON.stringify(desired) + '\n');
      // Without fsync a power loss after rename can leave an empty file under the final name.
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await this.#hooks.beforeRename?.(tmp);
      await rename(tmp, path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    await this.#syncDir();
  }

  async remove(project: string): Promise<void> {
    await rm(this.pathOf(project), { force: true });
    await this.#syncDir();
  }

  // The rename itself lives in the directory entry; fsync the directory so it survives a crash too.
  async #syncDir(): Promise<void> {
    const dh = await open(this.#dir, 'r').catch(() => undefined);
    if (!dh) return;
    try {
      await dh.sync();
    } catch {
      // Some filesystems refuse fsync on a directory; the rename is still atomic there.
    } finally {
      await dh.close();
    }
  }
}
