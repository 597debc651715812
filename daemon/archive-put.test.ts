import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { pathKind, putAtPath, renameRoot } from './archive-put.ts';
import { rejectsCode, tarOf } from './engine/engine-test-kit.ts';
import { FakeEngine } from './engine/fake-engine.ts';

async function names(tar: Readable): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const ex = extract();
  tar.pipe(ex);
  for await (const entry of ex) {
    const parts: Buffer[] = [];
    for await (const p of entry) parts.push(p as Buffer);
    out[entry.header.name] = Buffer.concat(parts).toString();
  }
  return out;
}

async function running(engine: FakeEngine): Promise<string> {
  engine.addImage('busybox:latest');
  const { id } = await engine.createContainer({ name: 'c', image: 'busybox', env: {}, labels: {}, ports: [], mounts: [], networks: [], init: false });
  await engine.startContainer(id);
  return id;
}

test('renameRoot renames the root entry and everything under it, keeping contents', async () => {
  const renamed = renameRoot(tarOf({ 'a.txt': 'A', 'dir/b.txt': 'B' }), 'new');
  assert.deepEqual(await names(renamed), { new: 'A', 'new/b.txt': 'B' });
});

test('putAtPath: into an existing directory, else as the named path; a missing parent is a usage error', async () => {
  const engine = new FakeEngine();
  const id = await running(engine);
  await engine.putArchive(id, '/srv', tarOf({ 'keep.txt': 'k' }));
  assert.equal(await pathKind(engine, id, '/srv'), 'directory');
  assert.equal(await pathKind(engine, id, '/srv/keep.txt'), 'file');
  assert.equal(await pathKind(engine, id, '/nope'), 'missing');

  await putAtPath(engine, id, '/srv', tarOf({ 'note.txt': 'into' }));
  assert.deepEqual(await names(await engine.getArchive(id, '/srv/note.txt')), { 'note.txt': 'into' });
  await putAtPath(engine, id, '/srv/renamed.txt', tarOf({ 'note.txt': 'as' }));
  assert.deepEqual(await names(await engine.getArchive(id, '/srv/renamed.txt')), { 'renamed.txt': 'as' });
  await rejectsCode(putAtPath(engine, id, '/nope/x.txt', tarOf({ 'note.txt': 'x' })), 'CMESH_E_USAGE');
  await rejectsCode(putAtPath(engine, id, '/srv/keep.txt/', tarOf({ 'note.txt': 'x' })), 'CMESH_E_USAGE');
});
