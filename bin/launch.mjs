// The full CLI's launcher (bin/cmesh.js imports it when the fast bundle did not take the command): cmesh ships as
// TypeScript and runs from a content-hashed esbuild bundle of cli/main.ts (built on first use after any source change,
// ~0.5 s; see bundle-cache.mjs), which starts ~0.3 s sooner than going through tsx; tsx runs the same sources when no
// bundle can be had, and always with CMESH_BUNDLE=0.
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cacheDirs, ensureBundle } from './bundle-cache.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
/** The fast bundle's entry, built with the CLI's bundle (bin/cmesh.js runs it). */
const FAST_ENTRY = join('cli', 'fast-entry.ts');
// A lazily loaded chunk whose node_modules inputs changed after this start's check must not run (bundle-chunks.mjs).
const onStaleChunk = (file) => {
  process.stderr.write(`cmesh: ${file} changed since the CLI bundle was built; it is rebuilt on the next start: run the command again\n`);
  process.exit(1);
};
const bundle = process.env.CMESH_BUNDLE === '0' ? undefined : await ensureBundle(root, 'cli', join('cli', 'main.ts'), cacheDirs(root), { onStaleChunk, fastEntry: FAST_ENTRY });
let bundled = false;
if (bundle?.path !== undefined) {
  // Names the CLI's code for caches of its results (cli/project-cache.ts): the bundle dir carries the content hash.
  globalThis.cmeshBuild = basename(dirname(bundle.path));
  try {
    await import(pathToFileURL(bundle.path).href);
    bundled = true;
  } catch (err) {
    // Only a bundle that fails to link (nothing of the CLI ran yet) is retried through tsx; the CLI's own failures are
    // handled inside it.
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' && !(err instanceof SyntaxError)) throw err;
    process.stderr.write(`cmesh: the cached CLI bundle did not load (${err.message.split('\n')[0]}); running through tsx\n`);
  }
}
if (!bundled) {
  const { register } = await import('tsx/esm/api');
  register({ tsconfig: join(root, 'tsconfig.json') });
  await import('../cli/main.ts');
}
