// The gateway image's tag cache: a hit skips hashing; any change to a file on disk (written in place with its mtime set
// back, replaced, resized) or to the small inputs misses it; a broken cache file is only a miss. And through
// ensureGatewayImage with the host's real node: the cached tag is the one hashing gives, and a later start uses it.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ContainerEngine } from './api/engine.ts';
import { contentTag, ensureGatewayImage } from './gateway-image.ts';
import { type ContextFile, cachedTag, fromDisk, inputKey } from './gateway-image-tag-cache.ts';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cm-gwtag-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A cachedTag over the current state of `node` in `dir`, counting how often the contents were hashed. */
function tagger(dir: string) {
  const cache = join(dir, 'gateway-image-tag.json');
  const dockerfile: ContextFile = { name: 'Dockerfile', mode: 0o644, data: Buffer.from('FROM scratch\n') };
  const counts = { hashed: 0 };
  const tag = async (bundle = 'bundle v1'): Promise<string> => {
    const files = [dockerfile, await fromDisk('rootfs/node', join(dir, 'node')), { name: 'rootfs/b.mjs', mode: 0o644, data: Buffer.from(bundle) }];
    return cachedTag(cache, inputKey(files, undefined), () => {
      counts.hashed++;
      return contentTag(files, undefined);
    });
  };
  return { cache, counts, tag };
}

test('hit: an unchanged binary is not hashed again, across instances (a daemon restart reads the same file)', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'node'), 'node v20.1');
  const first = tagger(dir);
  const tag = await first.tag();
  assert.equal(first.counts.hashed, 1);
  const restarted = tagger(dir);
  assert.equal(await restarted.tag(), tag);
  assert.equal(restarted.counts.hashed, 0, 'the second start found the tag in the cache');
  const saved = JSON.parse(await readFile(first.cache, 'utf8')) as { entries: { tag: string }[] };
  assert.deepEqual(saved.entries.map((e) => e.tag), [tag]);
  assert.equal((await stat(first.cache)).mode & 0o777, 0o600);
});

test('stale: written in place with size and mtime kept, replaced, resized, or a new bundle: hashed again', async (t) => {
  const dir = await tempDir(t);
  const node = join(dir, 'node');
  await writeFile(node, 'node v20.1');
  // A whole second, so that setting it back is exact.
  const fixed = 1_700_000_000;
  await utimes(node, fixed, fixed);
  const c = tagger(dir);
  const v1 = await c.tag();
  // Same size, mtime set back: only ctime tells (and the new contents give a new tag).
  const before = await stat(node);
  await new Promise((r) => setTimeout(r, 20));
  await writeFile(node, 'node v20.2');
  await utimes(node, fixed, fixed);
  assert.equal((await stat(node)).mtimeMs, before.mtimeMs);
  const v2 = await c.tag();
  assert.equal(c.counts.hashed, 2);
  assert.notEqual(v2, v1);
  // Replaced by rename (a package upgrade): a new inode, even with the same bytes.
  await writeFile(join(dir, 'node.new'), 'node v20.2');
  await rename(join(dir, 'node.new'), node);
  assert.equal(await c.tag(), v2, 'same bytes, same tag');
  assert.equal(c.counts.hashed, 3);
  await writeFile(node, 'node v20.10');
  assert.notEqual(await c.tag(), v2);
  assert.equal(c.counts.hashed, 4);
  // A new cmesh's supervisor bundle: hashed again, and the old entry stays for the version before.
  const bundled = await c.tag('bundle v2');
  assert.equal(c.counts.hashed, 5);
  await c.tag();
  assert.equal(c.counts.hashed, 5, 'the previous bundle is still cached');
  assert.notEqual(bundled, v2);
});

test('a broken or unwritable cache is a miss, never an error', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'node'), 'node v20.1');
  const c = tagger(dir);
  await writeFile(c.cache, '{"entries": [{"key": 1}]');
  const tag = await c.tag();
  assert.equal(c.counts.hashed, 1);
  assert.equal(await c.tag(), tag);
  assert.equal(c.counts.hashed, 1, 'rewritten whole after the miss');
  const unwritable = join(dir, 'missing-dir', 'tag.json');
  const files = [await fromDisk('rootfs/node', join(dir, 'node'))];
  const lines: string[] = [];
  assert.equal(await cachedTag(unwritable, inputKey(files, undefined), async () => 'cmesh/gateway:x', (l) => lines.push(l)), 'cmesh/gateway:x');
  assert.match(lines.join('\n'), /cannot cache its tag/);
});

test('the host node: the cached tag is the hashed one, and the next call takes it from the cache', { skip: process.platform !== 'linux' && 'needs ldd' }, async (t) => {
  const dir = await tempDir(t);
  const engine = { inspectImage: async () => ({ id: 'sha256:present', tags: [] }) } as unknown as ContainerEngine;
  const env = { ...process.env, CMESH_GATEWAY_BASE_IMAGE: '' };
  const tagCache = join(dir, 'gateway-image-tag.json');
  const hashed = await ensureGatewayImage({ engine, env });
  assert.equal(await ensureGatewayImage({ engine, env, tagCache }), hashed, 'a miss caches what hashing gives');
  // Put a marker tag under the same key: a call that returns it did not hash the ~100 MB binary.
  const saved = JSON.parse(await readFile(tagCache, 'utf8')) as { entries: { key: string; tag: string }[] };
  saved.entries[0]!.tag = 'cmesh/gateway:from-the-cache';
  await writeFile(tagCache, JSON.stringify(saved));
  assert.equal(await ensureGatewayImage({ engine, env, tagCache }), 'cmesh/gateway:from-the-cache');
});
