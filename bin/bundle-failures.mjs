// The memory of a failed bundle build (see bundle-cache.mjs): `<name>-failed.json` next to the bundles, keyed by the
// sources' sizes and mtimes, so the same failing build is not paid for on every start.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FORMAT, esbuildVersion, writableDirs, writeAtomic } from './bundle-files.mjs';
import { sha256 } from './name-hash.mjs';

// Files a build may have read, found without building: everything but dependencies under root, plus the install's
// lockfile (npm rewrites node_modules/.package-lock.json on every install) and esbuild's version.
const SOURCE_FILE = /\.(?:[cm]?[jt]sx?|json)$/;

function sourceStats(dir, skip, out) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.name.startsWith('.') || e.name === 'node_modules' || skip.has(path)) continue;
    if (e.isDirectory()) sourceStats(path, skip, out);
    else if (e.isFile() && SOURCE_FILE.test(e.name)) {
      const st = statSync(path, { throwIfNoEntry: false });
      if (st) out.push(`${path}\0${st.size}\0${st.mtimeMs}`);
    }
  }
  return out;
}

/**
 * Key of a failed build: sizes and mtimes (a stat each, no reads) of what it may have read; any change means retry.
 * The cache dirs are left out, should one be under root: the marker must not change its own key.
 */
export function failureKey(root, name, entry, dirs = []) {
  let version = 'none';
  try {
    version = esbuildVersion(root);
  } catch {
    // esbuild missing: installing it changes the lockfile below.
  }
  const lock = statSync(join(root, 'node_modules', '.package-lock.json'), { throwIfNoEntry: false });
  const h = sha256();
  h.update(`cmesh-bundle-failure ${FORMAT} ${name} ${entry} esbuild ${version} node ${process.versions.node.split('.')[0]}\n`);
  h.update(`lock\0${lock?.size ?? '-'}\0${lock?.mtimeMs ?? '-'}\n`);
  for (const line of sourceStats(root, new Set(dirs.map((d) => resolve(d))), []).sort()) h.update(`${line}\n`);
  return h.digest('hex').slice(0, 24);
}

export const failedFile = (dir, name) => join(dir, `${name}-failed.json`);

/** The remembered failure's cause when one was recorded for exactly this key, else undefined. */
export function knownFailure(dirs, name, key) {
  for (const dir of dirs) {
    try {
      const m = JSON.parse(readFileSync(failedFile(dir, name), 'utf8'));
      if (m.format === FORMAT && m.key === key && typeof m.error === 'string') return m.error;
    } catch {
      // No marker, or a torn one: as if none.
    }
  }
  return undefined;
}

export function rememberFailure(dirs, name, key, error) {
  for (const dir of writableDirs(dirs)) {
    try {
      writeAtomic(failedFile(dir, name), `${JSON.stringify({ format: FORMAT, key, error, at: new Date().toISOString() })}\n`);
      return;
    } catch {
      // Try the next dir; with none, the next start just tries the build again.
    }
  }
}
