// What a CLI start checks before any bundle code runs (bundle-cache.mjs has the whole story): the cache dirs, the
// root-scoped names, and whether the start manifest's stats still prove the bundle's inputs unchanged. CommonJS, so
// bin/cmesh.js can run `ps` and `up -d` from the fast bundle without starting node's ESM loader (~10 ms of every
// start, bench/RESULTS.md); the .mjs files of the bundle cache import the same functions from here.

const { readFileSync, statSync } = require('node:fs');
const { homedir } = require('node:os');
const { basename, dirname, join, resolve } = require('node:path');

/** Bump when the bundles' shape (options, shims, plugins, outputs) changes: older bundles then never match. */
const FORMAT = 5;

/** A file modified within this long of when its stat was taken is never trusted by stat alone (see bundle-cache.mjs). */
const RACY_MS = 2000;

/**
 * The global options the fast path takes when they lead the argv, each with a value, and the global each one sets:
 * bin/cmesh.js skips them to find the verb, cli/fast-path.ts (fastGlobals) reads them. Here, so both read one list
 * and bin/cmesh.js loads no other file for it.
 */
const FAST_GLOBALS = new Map([
  ['-p', 'projectName'],
  ['--project-name', 'projectName'],
  ['-f', 'file'],
  ['--file', 'file'],
]);

const nodeMajor = () => process.versions.node.split('.')[0];

/**
 * FNV-1a over the UTF-16 code units, 32 bits, as 8 hex digits: cache file names without node:crypto (~7 ms of a start).
 * Each cache that names files this way also stores and compares the full key.
 */
function nameHash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * Where bundles may be cached, most preferred first: the install's own node_modules/.cache, then the user's cache
 * directory (an install the user cannot write to). Never a shared temp dir: whoever can write there could plant code.
 */
function cacheDirs(root, env = process.env) {
  const userCache = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache');
  return [join(root, 'node_modules', '.cache', 'cmesh'), join(userCache, 'cmesh')];
}

/**
 * Bundles, manifests and failure markers are named per package root: one cache dir may serve several checkouts
 * (a node_modules symlinked between worktrees, a shared ~/.cache), and a manifest lists absolute input paths, so
 * another root's bundle would look fresh while running that root's code. A manifest also names its root: a collision
 * of the short name hash costs a rebuild, never the other root's code.
 */
function scopedName(root, name) {
  return `${name}-${nameHash(resolve(root))}`;
}

/** A manifest of this FORMAT, or undefined (missing, torn, older). */
function readManifestFile(file) {
  try {
    const m = JSON.parse(readFileSync(file, 'utf8'));
    return m.format === FORMAT ? m : undefined;
  } catch {
    return undefined;
  }
}

const startManifestFile = (dir, name) => join(dir, `${name}-start.json`);

/**
 * The inputs a start must stat: all of them without a chunk plan, or when a lazy input's recorded stat is racy (only a
 * full check, which re-hashes, may clear that; the lazy check compares stats alone). A start manifest has no plan: its
 * inputs are the ones to stat.
 */
function startInputs(m) {
  if (!m.chunks) return m.inputs;
  const racy = Object.values(m.chunks.lazy).some((ids) =>
    ids.some((i) => {
      const was = m.stats?.[m.inputs[i]];
      return !was || was[1] > m.statsAt - RACY_MS;
    }),
  );
  return racy ? m.inputs : m.chunks.eager.map((i) => m.inputs[i]);
}

/**
 * True when the manifest's stats prove the inputs unchanged since they were hashed (no file is read). esbuild's
 * package.json is among the stats: unchanged, it still names the version the bundle was built with. A split bundle's
 * lazy chunks check their own node_modules inputs when they load (bundle-chunks.mjs).
 */
function statsUnchanged(root, m, version) {
  if (!m.stats || typeof m.statsAt !== 'number' || m.esbuild !== version || m.node !== nodeMajor()) return false;
  if (typeof m.esbuildPackage !== 'string') return false;
  const files = [join(root, 'tsconfig.json'), m.esbuildPackage, ...startInputs(m)];
  for (const file of files) {
    const was = m.stats[file];
    const st = statSync(file, { throwIfNoEntry: false });
    if (!was || !st || st.size !== was[0] || st.mtimeMs !== was[1] || st.mtimeMs > m.statsAt - RACY_MS) return false;
  }
  return true;
}

/**
 * The CLI's fast bundle (one CommonJS file for `ps` and `up -d`, cli/fast-entry.ts) when the start manifest proves
 * every input of the CLI unchanged — the same check the full launcher makes — else undefined: the full launcher then
 * re-hashes or rebuilds. `build` names the CLI's code for caches of its results (cli/project-cache.ts).
 */
function freshFastBundle(root, dirs) {
  const name = scopedName(root, 'cli');
  for (const dir of dirs) {
    const m = readManifestFile(startManifestFile(dir, name));
    if (!m || m.root !== resolve(root) || typeof m.fast !== 'string') continue;
    if (statsUnchanged(root, m, m.esbuild)) return { path: join(dir, m.fast), build: basename(dirname(m.fast)) };
  }
  return undefined;
}

module.exports = { FORMAT, RACY_MS, FAST_GLOBALS, nodeMajor, nameHash, cacheDirs, scopedName, readManifestFile, startManifestFile, startInputs, statsUnchanged, freshFastBundle };
