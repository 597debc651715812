// What the daemon's bundle costs it for its whole life (bench/RESULTS.md, rss section): V8 keeps the bundle's source,
// one byte a character only while every character is ASCII/Latin-1 (a `→` in one comment doubled ~2.9 MB to ~5.8 MB
// of heap).

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { asciiSource } from '../bin/bundle-ascii.mjs';
import { ensureBundle } from '../bin/bundle-cache.mjs';
import { daemonLaunch } from './daemon-bundle.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

test('asciiSource writes comments, regular expressions and identifiers the same program in ASCII', () => {
  const source = [
    '// project → service × replica …',
    'const µ = 2;',
    'const re = /^(?:\\d+)(?:ns|µs|μs|ms)$/;',
    'const pair = /^😀$/u;',
    'export default [µ, re.test("12µs"), re.test("3μs"), re.test("4xs"), pair.test("😀"), "é".length];',
  ].join('\n');
  const ascii = asciiSource(source);
  assert.match(ascii, /^[\x00-\x7f]*$/);
  const run = (text: string): unknown => new Function(text.replace('export default', 'return'))();
  assert.deepEqual(run(ascii), run(source));
  assert.deepEqual(run(ascii), [2, true, true, false, true, 1]);
  assert.equal(asciiSource('plain ascii'), 'plain ascii');
});

test('asciiSource leaves a text it cannot rewrite alike (an identity escape) unchanged', () => {
  const identityEscape = 'const re = /\\é/;';
  assert.equal(asciiSource(identityEscape), identityEscape);
});

test("the daemon's bundle is ASCII, so V8 holds its source one byte a character", { timeout: 120_000 }, async (t) => {
  const cache = await mkdtemp(join(tmpdir(), 'cm-daemon-bundle-'));
  t.after(() => rm(cache, { recursive: true, force: true }));
  const built = await ensureBundle(REPO, 'daemon', join('daemon', 'bundle-entry.ts'), [cache], { warn: () => {} });
  assert.equal(built.error, undefined);
  const text = await readFile(built.path!, 'utf8');
  assert.ok(text.length > 500_000, 'the whole daemon was bundled');
  // Without comments and indentation (minifyWhitespace): ~2.2 MB, not ~2.9 MB, held for the daemon's life.
  assert.ok(text.split('\n').length < 2_000, `${text.split('\n').length} lines: the bundle keeps its comments and indentation`);
  assert.match(text, /function runDaemon\(/, 'names are kept (stack traces name the functions)');
  const first = /[^\x00-\x7f]/.exec(text);
  assert.equal(first, null, first ? `non-ASCII at ${first.index}: ${JSON.stringify(text.slice(first.index - 60, first.index + 20))}` : '');
});

test('the daemon starts with two malloc arenas and a fixed mmap threshold, unless the environment says otherwise', async () => {
  const tsx = { CMESH_DAEMON_BUNDLE: '0' };
  assert.deepEqual((await daemonLaunch(tsx)).env, { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' });
  assert.deepEqual((await daemonLaunch({ ...tsx, MALLOC_ARENA_MAX: '8' })).env, { MALLOC_MMAP_THRESHOLD_: '131072' }, "the user's value is inherited as it is");
  assert.deepEqual((await daemonLaunch({ ...tsx, MALLOC_MMAP_THRESHOLD_: '0' })).env, { MALLOC_ARENA_MAX: '2' });
});
