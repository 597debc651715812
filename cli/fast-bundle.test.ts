// The CLI's fast bundle (bin/start-check.cjs, fastBuildOptions in bin/bundle-build-options.mjs) against a throwaway
// package: it is built with the main bundle, found only while every input of the CLI is unchanged (an edit to any
// source, the fast entry's own or one only the full CLI imports, sends the start to the full launcher, which rebuilds),
// and a dynamic import outside it either loads bin/'s plain JS at run time or throws the fast-path miss.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureBundle, freshBundle } from '../bin/bundle-cache.mjs';
import { freshFastBundle } from '../bin/start-check.cjs';
import { FAST_PATH_MISS } from './fast-path.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

test('the fast bundle is built with the CLI bundle, runs only while every input is unchanged, and misses outside itself', { timeout: 120_000 }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'cm-fast-bundle-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'src'));
  await mkdir(join(root, 'bin'));
  await symlink(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
  const files: Record<string, string> = {
    'package.json': '{ "name": "f", "type": "module" }\n',
    'tsconfig.json': '{ "compilerOptions": { "strict": true } }\n',
    'src/shared.ts': 'export const answer: number = 42;\n',
    'src/only-main.ts': 'export const big = 1;\n',
    'src/loader.ts': 'export const loaded = true;\n',
    'bin/plain.mjs': 'export const plain = "from bin";\n',
    'src/main.ts': "import { answer } from './shared.ts';\nimport { big } from './only-main.ts';\nconsole.log(answer + big);\n",
    'src/fast.ts': [
      "import { answer } from './shared.ts';",
      'export const value = (): number => answer;',
      "export const fromBin = async (): Promise<string> => (await import('../bin/plain.mjs')).plain;",
      "export const outside = async (): Promise<boolean> => (await import('./loader.ts')).loaded;",
      '',
    ].join('\n'),
  };
  const past = new Date('2024-01-01T00:00:00Z');
  for (const [name, text] of Object.entries(files)) {
    await writeFile(join(root, name), text);
    await utimes(join(root, name), past, past);
  }
  const cache = join(root, 'cache');
  const options = { fastEntry: join('src', 'fast.ts') };
  const built = await ensureBundle(root, 'cli', join('src', 'main.ts'), [cache], options);
  assert.ok(built.path, built.error);
  const fast = freshFastBundle(root, [cache]);
  assert.ok(fast, 'the start manifest names the fast bundle');
  assert.equal(fast.build, built.path.split('/').at(-2), 'the same build name as the full CLI (the project cache keys on it)');
  const mod = createRequire(import.meta.url)(fast.path) as { value(): number; fromBin(): Promise<string>; outside(): Promise<boolean> };
  assert.equal(mod.value(), 42);
  assert.equal(await mod.fromBin(), 'from bin', "bin/'s plain JS loads at run time");
  await assert.rejects(mod.outside(), (err: { code?: string }) => err.code === FAST_PATH_MISS, 'the compose loader of this package is not inlined');

  // The full launcher's own check agrees.
  assert.equal(freshBundle(root, 'cli', [cache]), built.path);

  // An edit to a file only the full CLI imports: the fast bundle's code is the same, but the project cache's entries
  // are keyed on the whole CLI's build, so the start goes to the full launcher, which rebuilds.
  await writeFile(join(root, 'src', 'only-main.ts'), 'export const big = 2;\n');
  assert.equal(freshFastBundle(root, [cache]), undefined);
  const rebuilt = await ensureBundle(root, 'cli', join('src', 'main.ts'), [cache], options);
  assert.ok(rebuilt.path && rebuilt.path !== built.path);
  await utimes(join(root, 'src', 'only-main.ts'), past, past);
  const again = await ensureBundle(root, 'cli', join('src', 'main.ts'), [cache], options);
  assert.ok(again.path);
  assert.ok(freshFastBundle(root, [cache]), 'fresh again once rebuilt and out of the racy window');

  // A same-size edit of a fast input with a new mtime: stale before any of its code runs.
  await writeFile(join(root, 'src', 'shared.ts'), 'export const answer: number = 43;\n');
  assert.equal(freshFastBundle(root, [cache]), undefined);
  const third = await ensureBundle(root, 'cli', join('src', 'main.ts'), [cache], options);
  assert.ok(third.path);
  await utimes(join(root, 'src', 'shared.ts'), past, past);
  await ensureBundle(root, 'cli', join('src', 'main.ts'), [cache], options);
  const next = freshFastBundle(root, [cache]);
  assert.ok(next && next.path !== fast.path);
  assert.equal((createRequire(import.meta.url)(next.path) as { value(): number }).value(), 43, 'the edit runs');
});
