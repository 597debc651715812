// A bundle's manifests (bundle-cache.mjs): `<name>-bundle.json` lists every input with its size and mtime (~280 KB for
// the CLI); `<name>-start.json` holds only what a start checks (bundle-chunks.mjs: our sources and the entry's static
// graph, ~20 KB), since parsing the full one cost every CLI start ~5 ms of CPU. The start manifest is derived from the
// full one on every write and carries its hash and statsAt; the full one is read only to build, re-hash, or check a
// lazy chunk. Plain JS for the same reason as bundle-cache.mjs.

import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from './bundle-files.mjs';
import { nodeMajor, readManifestFile, startInputs, startManifestFile, statsUnchanged } from './start-check.cjs';

export { nodeMajor, statsUnchanged };

/** A lazy chunk with at most this many node_modules inputs is listed in the start manifest (startManifest). */
const NEAR_MAX_INPUTS = 20;

const fullFile = (dir, name) => join(dir, `${name}-bundle.json`);
const startFile = startManifestFile;

export const readManifest = (dir, name) => readManifestFile(fullFile(dir, name));
export const readStartManifest = (dir, name) => readManifestFile(startFile(dir, name));

/** The start manifest of `m`: its inputs are the ones a start stats (all of them while a lazy stat is racy). */
export function startManifest(m) {
  const inputs = startInputs(m);
  const stats = {};
  for (const file of [join(m.root, 'tsconfig.json'), m.esbuildPackage, ...inputs]) stats[file] = m.stats[file];
  // A lazy chunk with few inputs (commander's, which every verb but cli/fast-path.ts's loads) is checked from here
  // too: reading the full manifest for it would cost those verbs ~5 ms.
  const near = {};
  for (const [chunk, ids] of Object.entries(m.chunks?.lazy ?? {})) {
    if (ids.length > NEAR_MAX_INPUTS) continue;
    near[chunk] = ids.map((i) => m.inputs[i]);
    for (const file of near[chunk]) stats[file] = m.stats[file];
  }
  const { chunks, ...meta } = m;
  return { ...meta, inputs, stats, lazy: Object.keys(chunks?.lazy ?? {}), near };
}

/** Writes the start manifest of `m`, or removes it when `m` has no stats (the next start re-hashes). Best effort. */
export function writeStartManifest(dir, name, m) {
  try {
    if (m.stats) writeAtomic(startFile(dir, name), `${JSON.stringify(startManifest(m))}\n`);
    else rmSync(startFile(dir, name), { force: true });
  } catch {
    // Read-only cache dir: the next start reads the full manifest.
  }
}

/** Best effort: a manifest that cannot be rewritten only costs the next start a hash. */
export function writeManifest(dir, name, m) {
  try {
    writeAtomic(fullFile(dir, name), `${JSON.stringify(m)}\n`);
  } catch {
    return; // Read-only cache dir: the bundle is still fresh.
  }
  writeStartManifest(dir, name, m);
}

/** Size and mtime of each file, or undefined when one is gone. */
export function statInputs(files) {
  const stats = {};
  for (const file of files) {
    const st = statSync(file, { throwIfNoEntry: false });
    if (!st) return undefined;
    stats[file] = [st.size, st.mtimeMs];
  }
  return stats;
}

