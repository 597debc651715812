// bin/bundle-cache.mjs against a throwaway package: a failed build is remembered per source state (one warning, no
// rebuild until a source changes), a fix builds and clears the marker, and no writable cache dir skips the build;
// freshness by stats, and (bundle-chunks.mjs) a lazy chunk's own check of its node_modules inputs.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureBundle, freshBundle, freshByStats, scopedName } from '../bin/bundle-cache.mjs';
import { failureKey, knownFailure } from '../bin/bundle-failures.mjs';

const REPO = fileURLToPath(new URL('..', import.meta.url));
let root = '';
let cache = '';
const main = (): string => join(root, 'src', 'main.ts');

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'cm-bundle-'));
  // Under root on purpose: writing the marker must not change the key it is stored under.
  cache = join(root, 'cache');
  await mkdir(join(root, 'src'));
  // esbuild is resolved through tsx from the package root: borrow the repo's install.
  await symlink(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
  await writeFile(join(root, 'package.json'), '{ "name": "t", "type": "module" }\n');
  await writeFile(join(root, 'tsconfig.json'), '{ "compilerOptions": { "strict": true } }\n');
  await writeFile(join(root, 'src', 'util.ts'), 'export const n: number = 1;\n');
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

test('a failed build warns once, is not retried until a source changes, then a fix builds and clears the marker', async () => {
  const warnings: string[] = [];
  const warn = (line: string): void => {
    warnings.push(line);
  };
  const broken = "import { n } from './util.ts';\nconsole.log(n +);\n";
  await writeFile(main(), broken);
  const past = new Date('2024-01-01T00:00:00Z');
  await utimes(main(), past, past);

  const first = await ensureBundle(root, 'cli', join('src', 'main.ts'), [cache], { warn });
  assert.equal(first.path, undefined);
  assert.match(first.error ?? '', /^src\/main\.ts:2:\d+: /);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^cmesh: building the CLI bundle failed, running through tsx until the sources change: src\/main\.ts:2:\d+: .+\n$/);
  const key = failureKey(root, scopedName(root, 'cli'), join('src', 'main.ts'), [cache]);
  assert.equal(knownFailure([cache], scopedName(root, 'cli'), key), first.error);

  const again = await ensureBundle(root, 'cli', join('src', 'main.ts'), [cache], { warn });
  assert.match(again.error ?? '', /remembered/);
  assert.equal(warnings.length, 1, 'no second warning for the same sources');

  // A fix of the same size with the old mtime is invisible to the key: proof that the build is not run again...
  const sameSize = broken.replace('n +)', 'n+1)');
  assert.equal(sameSize.length, broken.length);
  await writeFile(main(), sameSize);
  await utimes(main(), past, past);
  assert.match((await ensureBundle(root, 'cli', join('src', 'main.ts'), [cache], { warn })).error ?? '', /remembered/);

  // ...and any real change (here the mtime) retries: the fixed source builds, the marker is gone, nothing warned.
  await writeFile(main(), "import { n } from './util.ts';\nconsole.log(n + 1);\n");
  const built = await ensureBundle(root, 'cli', join('src', 'main.ts'), [cache], { warn });
  assert.ok(built.path && existsSync(built.path), built.error);
  assert.equal(freshBundle(root, 'cli', [cache]), built.path);
  assert.equal(existsSync(join(cache, `${scopedName(root, 'cli')}-failed.json`)), false);
  assert.equal(warnings.length, 1);
  assert.match(await readFile(built.path, 'utf8'), /console\.log\(n \+ 1\)/);

  // Breaking an imported file (not the entry) is a new failure: warned again.
  await writeFile(join(root, 'src', 'util.ts'), 'export const n: number = ;\n');
  const broke = await ensureBundle(root, 'cli', join('src', 'main.ts'), [cache], { warn });
  assert.match(broke.error ?? '', /^src\/util\.ts:1:/);
  assert.equal(warnings.length, 2);
  await writeFile(join(root, 'src', 'util.ts'), 'export const n: number = 1;\n');
});

test('no writable cache dir: tsx fallback without building, warning or marker', async () => {
  const notADir = join(root, 'package.json', 'cache');
  const warnings: string[] = [];
  await writeFile(main(), 'console.log(1 +);\n');
  const t0 = Date.now();
  const r = await ensureBundle(root, 'daemon', join('src', 'main.ts'), [notADir], { warn: (l) => warnings.push(l) });
  assert.match(r.error ?? '', /^no writable cache dir/);
  assert.deepEqual(warnings, []);
  assert.ok(Date.now() - t0 < 1000, 'no build was attempted');
});

test('freshness: matching sizes and mtimes skip the hash; a touch re-hashes; a same-tick edit is never trusted', async () => {
  const past = new Date('2024-01-01T00:00:00Z');
  const util = join(root, 'src', 'util.ts');
  await writeFile(util, 'export const n: number = 1;\n');
  await writeFile(main(), "import { n } from './util.ts';\nconsole.log(n);\n");
  for (const f of [util, main(), join(root, 'tsconfig.json')]) await utimes(f, past, past);
  const built = await ensureBundle(root, 'cli', join('src', 'main.ts'), [cache]);
  assert.ok(built.path, built.error);
  assert.equal(freshBundle(root, 'cli', [cache]), built.path);

  // Same size, same (old) mtime, other bytes: only a stat check misses this, which proves no file was read.
  await writeFile(util, 'export const n: number = 2;\n');
  await utimes(util, past, past);
  assert.equal(freshBundle(root, 'cli', [cache]), built.path, 'the stat fast path decided');

  // A touch without a change: the stat differs, the hash still matches the bundle's sources (n = 1 again)...
  await writeFile(util, 'export const n: number = 1;\n');
  assert.equal(freshBundle(root, 'cli', [cache]), built.path);
  // ...but util.ts was modified within RACY_MS of the refreshed stats: a same-size edit keeping its mtime is caught.
  const { mtime } = await import('node:fs/promises').then((fs) => fs.stat(util));
  await writeFile(util, 'export const n: number = 3;\n');
  await utimes(util, mtime, mtime);
  assert.equal(freshBundle(root, 'cli', [cache]), undefined, 'a racy stat is not trusted');

  // A real edit (new mtime) is stale, as before.
  await writeFile(util, 'export const n: number = 42;\n');
  assert.equal(freshBundle(root, 'cli', [cache]), undefined);
  await writeFile(util, 'export const n: number = 1;\n');
});

test('two package roots sharing one cache dir (symlinked node_modules) never run each other\'s bundle', async () => {
  const other = await mkdtemp(join(tmpdir(), 'cm-bundle-other-'));
  try {
    await mkdir(join(other, 'src'));
    await symlink(join(REPO, 'node_modules'), join(other, 'node_modules'), 'dir');
    await writeFile(join(other, 'package.json'), '{ "name": "o", "type": "module" }\n');
    await writeFile(join(other, 'tsconfig.json'), '{ "compilerOptions": { "strict": true } }\n');
    await writeFile(join(other, 'src', 'main.ts'), "console.log('other root');\n");
    await writeFile(main(), "console.log('this root');\n");
    const mine = await ensureBundle(root, 'cli', join('src', 'main.ts'), [cache]);
    const theirs = await ensureBundle(other, 'cli', join('src', 'main.ts'), [cache]);
    assert.ok(mine.path && theirs.path && mine.path !== theirs.path, `${mine.path} vs ${theirs.path}`);
    assert.match(await readFile(mine.path, 'utf8'), /this root/);
    assert.match(await readFile(theirs.path, 'utf8'), /other root/);
    assert.equal(freshBundle(root, 'cli', [cache]), mine.path, 'the other root\'s build did not replace this one');
    // Were the short name hashes of the two roots to collide, the manifest's own root still tells them apart.
    const manifest = (r: string): string => join(cache, `${scopedName(r, 'cli')}-bundle.json`);
    await writeFile(manifest(other), await readFile(manifest(root)));
    assert.equal(freshBundle(other, 'cli', [cache]), undefined);
  } finally {
    await rm(other, { recursive: true, force: true });
  }
});

test('a split bundle stats only its eager inputs at start; a lazy chunk whose node_modules input changed never runs', async (t) => {
  const pkg = await mkdtemp(join(tmpdir(), 'cm-bundle-lazy-'));
  const hook = globalThis as { __cmeshChunk?: (url: string) => void };
  t.after(async () => {
    delete hook.__cmeshChunk;
    await rm(pkg, { recursive: true, force: true });
  });
  // A real node_modules (esbuild still comes through the repo's tsx) holding one package only a lazy chunk imports.
  await mkdir(join(pkg, 'src'));
  await mkdir(join(pkg, 'node_modules', 'lazydep'), { recursive: true });
  await symlink(join(REPO, 'node_modules', 'tsx'), join(pkg, 'node_modules', 'tsx'), 'dir');
  const dep = join(pkg, 'node_modules', 'lazydep', 'index.js');
  const files: Record<string, string> = {
    'package.json': '{ "name": "l", "type": "module" }\n',
    'tsconfig.json': '{ "compilerOptions": { "strict": true } }\n',
    'node_modules/lazydep/package.json': '{ "name": "lazydep", "type": "module", "main": "index.js" }\n',
    'node_modules/lazydep/index.js': "export const dep = 'one';\n",
    'src/lazy.ts': "import { dep } from 'lazydep';\n(globalThis as { lazyRan?: string }).lazyRan = dep;\n",
    'src/main.ts': "await import('./lazy.ts');\n",
  };
  const past = new Date('2024-01-01T00:00:00Z');
  for (const [name, text] of Object.entries(files)) {
    await writeFile(join(pkg, name), text);
    await utimes(join(pkg, name), past, past);
  }
  const cacheDir = join(pkg, 'cache');
  const stale: string[] = [];
  const onStaleChunk = (file: string): void => {
    stale.push(file);
    throw new Error(`stale ${file}`);
  };
  const built = await ensureBundle(pkg, 'cli', join('src', 'main.ts'), [cacheDir], { onStaleChunk });
  assert.ok(built.path, built.error);
  const manifest = JSON.parse(await readFile(join(cacheDir, `${scopedName(pkg, 'cli')}-bundle.json`), 'utf8'));
  const depId = manifest.inputs.indexOf(dep);
  assert.ok(depId >= 0 && !manifest.chunks.eager.includes(depId), 'the dependency is not checked at start');
  const [lazyChunk, ids] = Object.entries(manifest.chunks.lazy as Record<string, number[]>).find(([, v]) => v.includes(depId))!;
  const chunkUrl = pathToFileURL(join(dirname(built.path), lazyChunk)).href;
  // A start reads the small start manifest: the lazy chunk's dependency is not in it.
  const startFile = join(cacheDir, `${scopedName(pkg, 'cli')}-start.json`);
  const start = JSON.parse(await readFile(startFile, 'utf8'));
  assert.ok(!start.inputs.includes(dep) && start.inputs.length < manifest.inputs.length && start.lazy.includes(lazyChunk));
  // A chunk with few inputs is listed with its stats, checked on load without reading the full manifest.
  assert.deepEqual(start.near[lazyChunk], [dep]);

  // Two starts that built or re-hashed at once interleaved their writes: the full manifest's statsAt is not the start
  // manifest's (same bundle). A chunk checked against the full manifest (not from the start manifest's short list)
  // still runs; before, every later start of this bundle refused it ("changed since the CLI bundle was built").
  const farStart = { ...start, near: {} };
  await writeFile(startFile, `${JSON.stringify(farStart)}\n`);
  await writeFile(join(cacheDir, `${scopedName(pkg, 'cli')}-bundle.json`), `${JSON.stringify({ ...manifest, statsAt: manifest.statsAt + 3 })}\n`);
  assert.equal((await ensureBundle(pkg, 'cli', join('src', 'main.ts'), [cacheDir], { onStaleChunk })).path, built.path);
  hook.__cmeshChunk?.(chunkUrl);
  assert.deepEqual(stale, [], 'the same bundle, checked against the full manifest: the chunk runs');
  // The full manifest is another bundle's: the chunk is refused, and the start manifest goes so the next start
  // checks the full one instead of refusing again.
  await writeFile(join(cacheDir, `${scopedName(pkg, 'cli')}-bundle.json`), `${JSON.stringify({ ...manifest, hash: 'another' })}\n`);
  assert.equal((await ensureBundle(pkg, 'cli', join('src', 'main.ts'), [cacheDir], { onStaleChunk })).path, built.path);
  assert.throws(() => hook.__cmeshChunk?.(chunkUrl), /stale/);
  assert.deepEqual(stale, [lazyChunk]);
  assert.equal(existsSync(startFile), false, 'the start manifest is dropped');
  stale.length = 0;
  // Put the bundle's own manifests back (as a re-hash would) for the checks below.
  await writeFile(join(cacheDir, `${scopedName(pkg, 'cli')}-bundle.json`), `${JSON.stringify(manifest)}\n`);
  await writeFile(startFile, `${JSON.stringify(start)}\n`);

  // An in-place edit of the dependency: the start check still passes (it was not stat'ed)...
  assert.equal((await ensureBundle(pkg, 'cli', join('src', 'main.ts'), [cacheDir], { onStaleChunk })).path, built.path);
  hook.__cmeshChunk?.(chunkUrl);
  assert.deepEqual(stale, [], 'unchanged: the chunk runs');
  // A stat that moved without a byte changing (the same package reinstalled): the content hash clears it.
  const later = new Date('2024-02-01T00:00:00Z');
  await utimes(dep, later, later);
  assert.equal((await ensureBundle(pkg, 'cli', join('src', 'main.ts'), [cacheDir], { onStaleChunk })).path, built.path);
  hook.__cmeshChunk?.(chunkUrl);
  assert.deepEqual(stale, [], 'a touch is not a change');
  await writeFile(dep, "export const dep = 'two';\n");
  assert.equal((await ensureBundle(pkg, 'cli', join('src', 'main.ts'), [cacheDir], { onStaleChunk })).path, built.path);
  assert.ok(ids.length > 0);
  // ...but the chunk's banner stops it before its code runs, and the manifest forgets its stats.
  await assert.rejects(import(pathToFileURL(built.path).href), /stale .*lazydep/);
  assert.deepEqual(stale, [dep]);
  assert.equal(existsSync(startFile), false, 'the start manifest is gone with the stats');
  assert.equal((globalThis as { lazyRan?: string }).lazyRan, undefined, 'the stale chunk did not run');
  delete hook.__cmeshChunk;
  // The next start re-hashes, sees the change and builds anew.
  const rebuilt = await ensureBundle(pkg, 'cli', join('src', 'main.ts'), [cacheDir]);
  assert.ok(rebuilt.path && rebuilt.path !== built.path, `${rebuilt.path} vs ${built.path}`);
  await import(pathToFileURL(rebuilt.path).href);
  assert.equal((globalThis as { lazyRan?: string }).lazyRan, 'two');
});

test('freshByStats proves a bundle fresh by its stats alone: a touched input is "not proven", never re-hashed', async () => {
  const entry = join(root, 'src', 'gw.ts');
  await writeFile(entry, 'export const g: number = 1;\n');
  const past = new Date('2024-01-01T00:00:00Z');
  await utimes(entry, past, past);
  const built = await ensureBundle(root, 'gateway-t', join('src', 'gw.ts'), [cache]);
  assert.ok(built.path, built.error);
  assert.equal(freshByStats(root, 'gateway-t', [cache]), built.path);
  // The same bytes, a new mtime: only a re-hash (freshBundle's, the daemon's child's) can tell it is unchanged.
  await writeFile(entry, 'export const g: number = 1;\n');
  assert.equal(freshByStats(root, 'gateway-t', [cache]), undefined, 'no input read: not proven');
  assert.equal(freshBundle(root, 'gateway-t', [cache]), built.path, 'the re-hash finds it unchanged');
});
