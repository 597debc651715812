// Persists each project's desired state atomically (api/atomic-file.ts) so a crash never leaves half a file.

import { readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDir, TMP_MARK, writeFileAtomic } from './api/atomic-file.ts';
import { DESIRED_STATE_VERSION, type DesiredProject } from './api/desired.ts';
import { CmeshError } from './api/errors.ts';

const SUFFIX = '.json';

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
    await writeFileAtomic(this.pathOf(desired.project.name), JSON.stringify(desired) + '\n', { ...this.#hooks, mode: 0o600 });
  }

  async remove(project: string): Promise<void> {
    await rm(this.pathOf(project), { force: true });
    await syncDir(this.#dir);
  }
}
