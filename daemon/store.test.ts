// DesiredStore: atomic replace (a crash before rename keeps the old file), corrupt files moved aside, never thrown.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import type { CmeshError } from './api/errors.ts';
import { desired, project, svc } from './reconcile/testing.ts';
import { DesiredStore, isValidProjectName } from './store.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cmesh-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const v1 = desired(project('shop', [svc('web', { replicas: 1 })]));
const v2 = { ...v1, generation: 2, scale: { web: 4 } };

test('save then load round-trips, file is 0600, no tmp files remain', async () => {
  const store = new DesiredStore(dir, () => assert.fail('no corruption expected'));
  await store.save(v1);
  assert.deepEqual(await store.load('shop'), v1);
  assert.equal((await stat(join(dir, 'shop.json'))).mode & 0o777, 0o600);
  assert.deepEqual(await readdir(dir), ['shop.json']);
});

test('a crash between write and rename keeps the previous complete state', async () => {
  await new DesiredStore(dir, () => undefined).save(v1);
  // The hook throws where a crash would hit: after the tmp file is durable, before the rename.
  const crashing = new DesiredStore(dir, () => undefined, {
    beforeRename: () => {
      throw new Error('simulated crash');
    },
  });
  await assert.rejects(crashing.save(v2), /simulated crash/);
  // A real crash leaves the tmp file behind: recreate that situation and reload as a fresh daemon would.
  await writeFile(join(dir, 'shop.json.tmp-999-abc'), JSON.stringify(v2).slice(0, 40));
  const fresh = new DesiredStore(dir, () => assert.fail('tmp leftovers are not corruption'));
  const all = await fresh.loadAll();
  assert.equal(all.get('shop')?.generation, 1);
  assert.deepEqual(await readdir(dir), ['shop.json'], 'the leftover tmp file is cleaned up');
  await fresh.save(v2);
  assert.equal((await fresh.load('shop'))?.generation, 2);
});

test('a corrupt file is moved aside and reported; other projects still load', async () => {
  const errors: [string, CmeshError][] = [];
  const store = new DesiredStore(dir, (p, e) => errors.push([p, e]));
  await store.save(v1);
  await writeFile(join(dir, 'broken.json'), '{"version": 1, "generation": ');
  await writeFile(join(dir, 'future.json'), JSON.stringify({ ...v1, version: 99, project: { ...v1.project, name: 'future' } }));
  const all = await store.loadAll();
  assert.deepEqual([...all.keys()], ['shop']);
  assert.deepEqual(errors.map(([p]) => p).sort(), ['broken', 'future']);
  assert.ok(errors.every(([, e]) => e.code === 'CMESH_E_CONFIG' && typeof e.details['file'] === 'string'));
  const files = await readdir(dir);
  assert.ok(files.some((f) => f.startsWith('broken.json.corrupt-')));
  assert.ok(!files.includes('broken.json'));
  // The moved-aside copy keeps the bytes for a post-mortem.
  const aside = files.find((f) => f.startsWith('broken.json.corrupt-'))!;
  assert.match(await readFile(join(dir, aside), 'utf8'), /"generation": $/);
});

test('remove deletes the file and tolerates a missing one', async () => {
  const store = new DesiredStore(dir, () => undefined);
  await store.save(v1);
  await store.remove('shop');
  await store.remove('shop');
  assert.equal(await store.load('shop'), undefined);
});

test('project names cannot escape the directory', () => {
  assert.ok(isValidProjectName('shop-2_a'));
  for (const bad of ['../x', 'a/b', '', 'Shop', '.hidden', 'a'.repeat(64)]) assert.ok(!isValidProjectName(bad), bad);
  const store = new DesiredStore(dir, () => undefined);
  assert.throws(() => store.pathOf('../etc'), /invalid project name/);
});
