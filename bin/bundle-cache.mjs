// Content-hashed esbuild bundles of cmesh's entry points (the CLI, the daemon), so neither has to run through tsx's
// loader: the CLI starts ~0.3 s sooner, the daemon saves ~30 MB of RSS. Plain JS because bin/cmesh.js needs it before
// any TypeScript can load. Everything takes the package root explicitly: this file is itself bundled into the CLI.
//
// A stale bundle never runs. The manifest next to a bundle lists every file esbuild read for it (our sources and the
// bundled dependencies); the bundle is used only when the sha-256 over those files' current contents — plus esbuild's
// version, node's major, tsconfig.json and FORMAT — equals the hash it was built from. An edit that adds an import
// changes the importing file, so it is caught too. Writes are atomic (temp + rename): concurrent CLIs may race to
// build, and the loser's rename just replaces an identical file.
//
// Reading and hashing ~1700 files costs every start 40–65 ms, so the manifest also keeps each input's size and mtime
// as they were when hashed: when every stat still matches, the bundle is fresh without reading a byte (for the CLI's
// split bundle, the node_modules inputs of lazy chunks are stat'ed when their chunk loads: bundle-chunks.mjs; a start
// reads only the small start manifest of what it stats: bundle-manifest.mjs). Any
// difference falls back to the hash, and a matching hash refreshes the stats. As in git's "racy" index entries, a file
// modified within RACY_MS of its stat is never trusted by stat alone (a same-tick same-size edit would go unseen).
//
// A failed build (a syntax error, an unresolvable import, esbuild missing) is remembered (bundle-failures.mjs) in
// `<name>-failed.json` next to the bundles, keyed by the sources' sizes and mtimes: until one of them changes, a start
// goes straight to tsx instead of paying for the same failing build again, and the one-line warning naming the cause
// is printed only when it fails.
//
// Memory: dockerode loads ssh2 and @grpc/grpc-js + protobufjs at require time, ~20 MB that a local-socket daemon never
// uses: the bundles shim the three files that pull them in (bundle-build-options.mjs) to load them on first use.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { asciiSource } from './bundle-ascii.mjs';
import { chunkPlan, guardChunks, nearFresh } from './bundle-chunks.mjs';
import { FORMAT, esbuildPackageOf, loadEsbuild, writableDirs, writeAtomic } from './bundle-files.mjs';
import { nodeMajor, readManifest, readStartManifest, statInputs, statsUnchanged, writeManifest, writeStartManifest } from './bundle-manifest.mjs';
import { sha256 } from './name-hash.mjs';
import { cacheDirs, scopedName } from './start-check.cjs';

export { cacheDirs, scopedName };

function contentHash(root, version, inputs) {
  const h = sha256();
  h.update(`cmesh-bundle ${FORMAT} esbuild ${version} node ${nodeMajor()}\n`);
  h.update(readFileSync(join(root, 'tsconfig.json')));
  for (const file of inputs) {
    let data;
    try {
      data = readFileSync(file);
    } catch {
      return undefined;
    }
    h.update(`\0${file}\0${data.length}\0`);
    h.update(data);
  }
  return h.digest('hex').slice(0, 24);
}

/** Path of the cached `name` bundle when it is fresh for the files as they are now, else undefined. Never throws. */
export function freshBundle(root, name, dirs) {
  return freshScoped(root, scopedName(root, name), dirs)?.path;
}

/** A manifest of this root's bundle, with a fast bundle when one is asked for (`fastEntry`). */
const fits = (m, root, fastEntry) => m?.root === resolve(root) && (!fastEntry || typeof m.fast === 'string');

/**
 * Path of the cached `name` bundle when the stats its manifest recorded prove it fresh, without reading any input;
 * undefined when they do not (it may still be fresh: ensureBundle re-hashes, else builds). Never throws. The daemon
 * asks this of the gateway bundles and leaves the rest to a child process: re-hashing ~200 inputs in the daemon left
 * their buffers in its malloc heap (bench/RESULTS.md, rssbuild).
 */
export function freshByStats(root, name, dirs) {
  return byStats(root, scopedName(root, name), dirs)?.path;
}

function byStats(root, name, dirs, fastEntry) {
  // It needs esbuild's version only to compare, and the manifest knows which package.json said it; resolving esbuild
  // through tsx costs every start ~7 ms.
  for (const dir of dirs) {
    const m = readStartManifest(dir, name) ?? readManifest(dir, name);
    if (!fits(m, root, fastEntry)) continue;
    const bundle = join(dir, m.bundle);
    if (existsSync(bundle) && m.externals.every((p) => existsSync(p)) && statsUnchanged(root, m, m.esbuild)) return freshResult(bundle, dir, name, m);
  }
  return undefined;
}

function freshScoped(root, name, dirs, fastEntry) {
  // The stat check first.
  const byStat = byStats(root, name, dirs, fastEntry);
  if (byStat) return byStat;
  let version;
  let esbuildPackage;
  try {
    ({ version, path: esbuildPackage } = esbuildPackageOf(root));
  } catch {
    return undefined;
  }
  for (const dir of dirs) {
    const m = readManifest(dir, name);
    if (!fits(m, root, fastEntry)) continue;
    const bundle = join(dir, m.bundle);
    if (!existsSync(bundle) || !m.externals.every((p) => existsSync(p))) continue;
    if (statsUnchanged(root, m, version)) return freshResult(bundle, dir, name, m);
    if (!rehash(root, dir, name, { ...m, esbuild: version, esbuildPackage, node: nodeMajor() })) continue;
    // Every input was just read: no chunk needs a check of its own.
    return { path: bundle, lazy: new Set() };
  }
  return undefined;
}

/** Why a build failed, as one line: esbuild's first error with its location, not its multi-line summary. */
function buildError(err) {
  const first = Array.isArray(err?.errors) ? err.errors[0] : undefined;
  if (!first) return String(err?.message ?? err).split('\n')[0];
  const at = first.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : '';
  const more = err.errors.length > 1 ? ` (and ${err.errors.length - 1} more)` : '';
  return `${at}${first.text}${more}`;
}

/** Every bundle failure carries `remember`: true for one the same sources would repeat (worth a marker). */
const failure = (message, remember) => Object.assign(new Error(message), { remember });

const FAST_FILE = 'fast.cjs';

/** The files esbuild read for a build, as absolute paths (not its plugins' virtual modules). */
const inputsOf = (root, result) =>
  Object.keys(result.metafile.inputs)
    .filter((p) => !p.includes(':'))
    .map((p) => join(root, p));

async function compile(esbuild, root, name, entry, dir, split, fastEntry, ascii) {
  const externals = new Set();
  const { buildOptions, fastBuildOptions } = await import('./bundle-build-options.mjs'); // only a build: one module less per start
  const build = (options) =>
    esbuild.build(options).catch((err) => {
      // An error in a file (syntax, an import that does not resolve) repeats until a source changes; one without a
      // location (esbuild's service died) may not, so it is retried.
      throw failure(buildError(err), Array.isArray(err?.errors) && err.errors.some((e) => e.location));
    });
  // The fast bundle is part of the same build: one hash, one manifest, one start check for both.
  const [result, fast] = await Promise.all([
    // The daemon's source also without comments and indentation (2.9 -> 2.2 MB): V8 keeps it the daemon's whole life.
    // Names stay, so its stack traces still name every function (at a column of the bundle's few long lines).
    build({ ...buildOptions(root, name, entry, dir, externals, split), ...(ascii ? { minifyWhitespace: true } : {}) }),
    fastEntry ? build(fastBuildOptions(root, fastEntry, dir)) : undefined,
  ]);
  const fastInputs = fast ? inputsOf(root, fast) : [];
  const inputs = [...new Set([...inputsOf(root, result), ...fastInputs])].sort();
  const statsAt = Date.now();
  const esbuildPackage = esbuildPackageOf(root).path;
  const stats = statInputs([join(root, 'tsconfig.json'), esbuildPackage, ...inputs]);
  const hash = contentHash(root, esbuild.version, inputs);
  // Not remembered: the next start sees the edited file and builds from it.
  if (!hash) throw failure('a source changed while bundling', false);
  const files = result.outputFiles.map((f) => ({ name: basename(f.path), contents: ascii ? asciiSource(f.text) : f.contents }));
  if (fast) files.push({ name: FAST_FILE, contents: fast.outputFiles[0].contents });
  // Every input of the fast bundle is checked at start: it runs before any chunk's own check could.
  const chunks = split ? chunkPlan(result.metafile, root, inputs, fastInputs) : undefined;
  const built = { root: resolve(root), hash, files, inputs, externals: [...externals].sort(), esbuild: esbuild.version, esbuildPackage, stats, statsAt, chunks };
  return fast ? { ...built, fast: FAST_FILE } : built;
}

function install(dir, name, built) {
  // The entry and its chunks share one dir named by the content hash; the manifest, written last, makes it live.
  const folder = `${name}-${built.hash}`;
  mkdirSync(join(dir, folder), { recursive: true });
  for (const f of built.files) writeAtomic(join(dir, folder, f.name), f.contents);
  const file = join(folder, 'main.mjs');
  const { files: _files, fast, ...rest } = built;
  const manifest = { format: FORMAT, bundle: file, ...(fast ? { fast: join(folder, fast) } : {}), node: nodeMajor(), ...rest };
  writeAtomic(join(dir, `${name}-bundle.json`), `${JSON.stringify(manifest)}\n`);
  writeStartManifest(dir, name, manifest);
  // Older bundles are dead weight, but a running one may still load a chunk (a long `cmesh dash`): single files (an
  // older cache format) go at once, bundle dirs once nothing could still be using them.
  const pattern = new RegExp(`^${name}-[0-9a-f]+(\\.mjs)?$`);
  for (const old of readdirSync(dir)) {
    if (!pattern.test(old) || old === folder) continue;
    const path = join(dir, old);
    const st = statSync(path, { throwIfNoEntry: false });
    if (st && (st.isFile() || Date.now() - st.mtimeMs > OLD_BUNDLE_MS)) rmSync(path, { recursive: true, force: true });
  }
  // Built from the files as they are now: no chunk needs a check of its own.
  return { path: join(dir, file) };
}

/** A superseded bundle dir is removed once it is this old: no CLI verb runs a day on one bundle's chunks. */
const OLD_BUNDLE_MS = 24 * 3600_000;

/**
 * Builds the bundle of `entry` (relative to root) once and installs it into the first writable dir; returns `{ path }`.
 * Throws when no dir is writable (before building), when the build fails (`remember`: true), or when no dir took it.
 */
async function buildScoped(root, name, entry, dirs, split, fastEntry, ascii) {
  const writable = writableDirs(dirs);
  if (writable.length === 0) throw failure(`no writable cache dir (${dirs.join(', ')})`, false);
  let esbuild;
  try {
    esbuild = loadEsbuild(root);
  } catch (err) {
    throw failure(`esbuild did not load: ${String(err?.message ?? err).split('\n')[0]}`, true);
  }
  const built = await compile(esbuild, root, name, entry, writable[0], split, fastEntry, ascii);
  const errors = [];
  for (const dir of writable) {
    try {
      return install(dir, name, built);
    } catch (err) {
      errors.push(`${dir}: ${String(err?.message ?? err).split('\n')[0]}`);
    }
  }
  throw failure(`writing the ${name} bundle failed (${errors.join('; ')})`, false);
}

const LABEL = { cli: 'CLI', daemon: 'daemon' };

/**
 * A fresh cached bundle, else a new one, else undefined with the reason (the caller falls back to tsx). A build that
 * fails warns once through `warn` (stderr by default) and is not retried until the sources change. With `onStaleChunk`
 * (the process that will run the bundle), a lazy chunk whose inputs changed since the start check calls it with the
 * file instead of running; the manifest then forgets its stats, so the next start re-hashes and rebuilds. With
 * `fastEntry` (the CLI), the same build also makes the fast bundle bin/cmesh.js runs `ps` and `up -d` from.
 */
export async function ensureBundle(root, label, entry, dirs, options = {}) {
  const warn = options.warn ?? ((line) => process.stderr.write(line));
  const name = scopedName(root, label);
  const fresh = freshScoped(root, name, dirs, options.fastEntry);
  if (fresh) {
    if (fresh.lazy.size > 0 && options.onStaleChunk) {
      // Only while the manifest is still this bundle's: another start may have installed a newer one meanwhile.
      // Without `m` (the full manifest is another bundle's: two starts installed builds at once and their writes
      // interleaved), the start manifest goes, so the next start checks the full one instead of meeting this again.
      const forget = (m) =>
        m === undefined
          ? writeStartManifest(fresh.dir, name, {})
          : readManifest(fresh.dir, name)?.hash === m.hash && writeManifest(fresh.dir, name, { ...m, stats: undefined });
      guardChunks(fresh, { recheck: (m) => recheck(root, name, fresh.dir, m), forget, onStale: options.onStaleChunk });
    }
    return { path: fresh.path };
  }
  // Only a start without a fresh bundle needs the failure markers: one module less for every other start.
  const { failedFile, failureKey, knownFailure, rememberFailure } = await import('./bundle-failures.mjs');
  const key = failureKey(root, name, entry, dirs);
  const known = knownFailure(dirs, name, key);
  if (known !== undefined) return { error: `${known} (remembered; retried when the sources change)` };
  try {
    // The daemon only: it runs for days on one source (bundle-ascii.mjs); the gateway's init bundle is frozen.
    const { path } = await buildScoped(root, name, entry, dirs, label === 'cli', options.fastEntry, label === 'daemon');
    for (const dir of dirs) {
      try {
        rmSync(failedFile(dir, name), { force: true });
      } catch {
        // An unwritable dir cannot hold a marker either.
      }
    }
    return { path };
  } catch (err) {
    const error = String(err?.message ?? err);
    if (err?.remember === true) {
      rememberFailure(dirs, name, key, error);
      warn(`cmesh: building the ${LABEL[label] ?? label} bundle failed, running through tsx until the sources change: ${error}\n`);
    }
    return { error };
  }
}

/**
 * A fresh bundle as the lazy-chunk guard sees it (bundle-chunks.mjs): the names of its lazy chunks, and its full
 * manifest on demand — undefined once the dir holds another bundle's.
 */
function freshResult(path, dir, name, m) {
  const lazy = new Set(m.lazy ?? Object.keys(m.chunks?.lazy ?? {}));
  // The full manifest of the same bundle (same content hash). Its statsAt may differ from the start manifest's: two
  // processes that re-hash or build at once each write both files, and their writes can interleave; either one's
  // stats were taken from the same content before it was hashed, so they are as good a record as the other's.
  const full = () => {
    const f = m.chunks ? m : readManifest(dir, name);
    return f?.hash === m.hash ? f : undefined;
  };
  return { path, dir, lazy, full, nearFresh: (chunk) => nearFresh(m, chunk) };
}

/**
 * Reads every input: when they still hash to `m`'s hash, `m` with fresh stats (the manifest rewritten when every input
 * could be stat'ed), else undefined. Stats are taken before the read: a file edited after its stat is caught by the
 * next start's stat check.
 */
function rehash(root, dir, name, m) {
  const statsAt = Date.now();
  const stats = statInputs([join(root, 'tsconfig.json'), m.esbuildPackage, ...m.inputs]);
  if (contentHash(root, m.esbuild, m.inputs) !== m.hash) return undefined;
  const refreshed = { ...m, stats, statsAt };
  if (stats) writeManifest(dir, name, refreshed);
  return refreshed;
}

/** Lazy-chunk guard: `m` with refreshed stats when all its inputs still hash to its hash, else undefined. */
function recheck(root, name, dir, m) {
  const refreshed = rehash(root, dir, name, m);
  return refreshed?.stats ? refreshed : undefined;
}
