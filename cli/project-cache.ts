// The loaded compose project, cached between CLI starts: `cmesh ps` on an unchanged project skips the YAML loader
// (its chunk, the parse and normalization: ~30 ms of every start). A hit replays the full load's result exactly, its
// warnings included; errors are never cached, so a broken file fails every time as before.
//
// An entry records everything the load depended on: every path it looked at (read, or probed and absent — a
// compose.override.yaml that appears later must be noticed) with its size, mtime, ctime and inode, and every env
// variable it read with its value. It is used only when all of them are as recorded, the CLI build is the one that
// wrote it (the loader's code is part of the answer), and no file was modified within RACY_MS of the load (a same-size
// edit in the same clock tick would otherwise go unseen; such an entry is replaced by the next full load).

import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { nameHash } from '../bin/name-hash.mjs';
import type { LoadedProject } from '../daemon/api/project.ts';
import type { ProjectSelection } from './global-options.ts';

const FORMAT = 1;
const RACY_MS = 2000;
/** Entries kept per cache dir: one per (cwd, options) a user runs cmesh with; the oldest go first. */
const MAX_ENTRIES = 100;

interface Entry {
  format: number;
  build: string;
  key: string;
  /** When the load started (ms since the epoch). */
  at: number;
  /** Env name → value the load read (null: unset). */
  env: Record<string, string | null>;
  /** Path → its signature when the load looked at it (null: absent). */
  files: Record<string, string | null>;
  loaded: LoadedProject;
}

export interface ProjectCache {
  dir: string;
  /** Identifies the CLI's code (the bundle's content hash); without one there is no cache. */
  build: string;
}

type Env = Record<string, string | undefined>;

/** The variable's own value (process.env inherits methods such as hasOwnProperty; they are not variables). */
const own = (env: Env, name: string): string | null => (Object.hasOwn(env, name) ? (env[name] ?? null) : null);

/** The cache for this CLI start, or undefined (running from sources, or CMESH_PROJECT_CACHE=0). */
export function projectCacheFor(env: Env, build = (globalThis as { cmeshBuild?: string }).cmeshBuild): ProjectCache | undefined {
  if (build === undefined || env['CMESH_PROJECT_CACHE'] === '0') return undefined;
  const base = env['XDG_CACHE_HOME'] || join(env['HOME'] || homedir(), '.cache');
  return { dir: join(base, 'cmesh', 'projects'), build };
}

function signature(path: string): string | null {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return null;
  return st.isFile() ? `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}` : 'not-a-file';
}

/** The selection without its env (the env is recorded name by name). */
function keyOf(selection: ProjectSelection): string {
  const { env: _env, ...rest } = selection;
  return JSON.stringify(rest);
}

const entryFile = (cache: ProjectCache, key: string): string =>
  join(cache.dir, `${nameHash(key)}.json`);

/** The cached load for this selection when everything it depended on is unchanged, else undefined. Never throws. */
export function cachedProject(cache: ProjectCache, selection: ProjectSelection): LoadedProject | undefined {
  const key = keyOf(selection);
  let entry: Entry;
  try {
    entry = JSON.parse(readFileSync(entryFile(cache, key), 'utf8')) as Entry;
  } catch {
    return undefined;
  }
  if (entry.format !== FORMAT || entry.build !== cache.build || entry.key !== key) return undefined;
  const env = selection.env ?? {};
  for (const [name, value] of Object.entries(entry.env)) if (own(env, name) !== value) return undefined;
  for (const [path, was] of Object.entries(entry.files)) {
    if (signature(path) !== was) return undefined;
    const mtime = was === null || was === 'not-a-file' ? 0 : Number(was.split(':')[1]);
    if (mtime > entry.at - RACY_MS) return undefined;
  }
  return entry.loaded;
}

/**
 * Runs `load` with the selection's env and file accesses recorded, and stores its result for the next start.
 * A load that enumerates the whole env (COMPOSE_FILE from .env) is not stored: it would depend on every variable.
 */
export async function loadAndCache(
  cache: ProjectCache,
  selection: ProjectSelection,
  load: (selection: ProjectSelection, seen: (path: string) => void) => Promise<LoadedProject>,
): Promise<LoadedProject> {
  const at = Date.now();
  const env: Record<string, string | null> = {};
  const files: Record<string, string | null> = {};
  let wholeEnv = false;
  const source = selection.env ?? {};
  const recorded = new Proxy(source, {
    get: (target, name) => {
      if (typeof name === 'string') env[name] = own(target, name);
      return Reflect.get(target, name);
    },
    has: (target, name) => {
      if (typeof name === 'string') env[name] = own(target, name);
      return Reflect.has(target, name);
    },
    ownKeys: (target) => {
      wholeEnv = true;
      return Reflect.ownKeys(target);
    },
  });
  const seen = (path: string): void => {
    if (!(path in files)) files[path] = signature(path);
  };
  const loaded = await load({ ...selection, env: recorded }, seen);
  if (!wholeEnv) store(cache, { format: FORMAT, build: cache.build, key: keyOf(selection), at, env, files, loaded });
  return loaded;
}

/** Best effort, atomic (temp + rename): a cache that cannot be written only costs the next start a full load. */
function store(cache: ProjectCache, entry: Entry): void {
  try {
    mkdirSync(cache.dir, { recursive: true, mode: 0o700 });
    const file = entryFile(cache, entry.key);
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(entry), { mode: 0o600 });
    renameSync(temp, file);
    prune(cache.dir);
  } catch {
    // Read-only or full: no cache.
  }
}

function prune(dir: string): void {
  const names = readdirSync(dir);
  if (names.length <= MAX_ENTRIES) return;
  const byAge = names
    .map((name) => ({ name, mtime: statSync(join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
    .sort((a, b) => a.mtime - b.mtime);
  for (const { name } of byAge.slice(0, names.length - MAX_ENTRIES)) rmSync(join(dir, name), { force: true });
}
