// What the bundle cache (bundle-cache.mjs) and its failure memory (bundle-failures.mjs) share: the cache format,
// esbuild's version, atomic writes and the writable cache dirs. Plain JS for the same reason as bundle-cache.mjs.

import { accessSync, constants, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { FORMAT } from './start-check.cjs';

export { FORMAT };

export function esbuildVersion(root) {
  return esbuildPackageOf(root).version;
}

/** esbuild comes with tsx (our dependency): resolve it from there, so a non-hoisted install works too. */
export function loadEsbuild(root) {
  return createRequire(createRequire(join(root, 'package.json')).resolve('tsx'))('esbuild');
}

/** The package.json of the esbuild tsx uses (esbuild comes with tsx), and the version it names. */
export function esbuildPackageOf(root) {
  const fromTsx = createRequire(createRequire(join(root, 'package.json')).resolve('tsx'));
  const path = fromTsx.resolve('esbuild/package.json');
  return { path, version: JSON.parse(readFileSync(path, 'utf8')).version };
}

/** Temp + rename: concurrent CLIs may race, and a reader never sees half a file. */
export function writeAtomic(file, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode: 0o644 });
  renameSync(tmp, file);
}

/** The dirs that exist (created if need be) and are writable, in order. */
export function writableDirs(dirs) {
  return dirs.filter((dir) => {
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  });
}
