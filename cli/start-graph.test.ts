// Every CLI start compiles the bundle's static import graph (bin/bundle-chunks.mjs); the libraries only some verbs
// need (commander, which cli/fast-path.ts's `ps` does without; zod, the YAML parser, ink and React, the Kubernetes
// models, tar, the file watcher, the XML writer) must stay in chunks loaded on first use. A static import of a module that imports one of them (cli/commands/cert.ts importing
// daemon/api/tls.ts once put zod, ~0.75 MB, on every start) fails here, naming the package.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureBundle } from '../bin/bundle-cache.mjs';

const REPO = fileURLToPath(new URL('..', import.meta.url));
// commander too: cli/fast-path.ts runs `ps` without it.
const LAZY_ONLY = ['commander', 'zod', 'yaml', 'js-yaml', 'ink', 'react', 'react-reconciler', 'ajv', 'kubernetes-models', 'tar-stream', 'chokidar', 'xmlbuilder2'];

const packageOf = (path: string): string | undefined => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1];

test('the CLI start graph holds none of the libraries only some verbs need', { timeout: 120_000 }, async (t) => {
  const cache = await mkdtemp(join(tmpdir(), 'cm-start-graph-'));
  t.after(() => rm(cache, { recursive: true, force: true }));
  const built = await ensureBundle(REPO, 'cli', join('cli', 'main.ts'), [cache], { warn: () => {} });
  assert.equal(built.error, undefined);
  const manifestName = (await readdir(cache)).find((n) => n.endsWith('-bundle.json'));
  assert.ok(manifestName, 'the build wrote its manifest');
  const m = JSON.parse(await readFile(join(cache, manifestName), 'utf8')) as { inputs: string[]; chunks?: { eager: number[]; lazy: Record<string, number[]> } };
  assert.ok(m.chunks, 'the CLI bundle is split into chunks');
  const eager = new Set(m.chunks.eager.map((i) => packageOf(m.inputs[i] ?? '')).filter((p) => p !== undefined));
  const lazy = new Set(Object.values(m.chunks.lazy).flatMap((ids) => ids.map((i) => packageOf(m.inputs[i] ?? ''))));
  assert.ok(lazy.has('commander') && lazy.has('zod'), 'the graph is read from the manifest (commander loads after the fast path)');
  assert.deepEqual(
    LAZY_ONLY.filter((p) => eager.has(p)),
    [],
    'a static import chain from cli/main.ts reaches these packages (find it with esbuild --metafile)',
  );
});

// node's own modules cost a start too: node:https/tls bring node:crypto (~10 ms), child_process brings dgram (~5 ms).
const LAZY_BUILTINS = ['crypto', 'tls', 'https', 'child_process', 'dgram', 'readline', 'readline/promises', 'zlib', 'worker_threads'];

test('a CLI start loads none of the node modules only some verbs need', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-start-builtins-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const preload = join(dir, 'loaded.cjs');
  await writeFile(
    preload,
    "process.on('exit', () => require('node:fs').writeFileSync(process.env.LOADED_OUT, JSON.stringify(process.moduleLoadList)));\n",
  );
  const out = join(dir, 'loaded.json');
  const env = { ...process.env, LOADED_OUT: out, XDG_CACHE_HOME: join(dir, 'xdg'), CMESH_HOME: join(dir, 'home') };
  // Twice: a start that finds the bundle stale builds it first, and esbuild runs as a child process.
  spawnSync(process.execPath, [join(REPO, 'bin', 'cmesh.js'), '--version'], { env });
  const run = spawnSync(process.execPath, ['-r', preload, join(REPO, 'bin', 'cmesh.js'), '--version'], { env, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.doesNotMatch(run.stderr, /running through tsx/, 'the bundle ran (tsx would load everything)');
  const loaded = new Set((JSON.parse(await readFile(out, 'utf8')) as string[]).map((m) => m.replace(/^NativeModule /, '')));
  assert.ok(loaded.has('internal/modules/esm/loader'), 'the list is node’s own record of loaded modules');
  assert.deepEqual(
    LAZY_BUILTINS.filter((m) => loaded.has(m)),
    [],
    'a static import on the start path (or commander’s own require) loads these: import them where they are used',
  );
});
