// syncFiles against the fake engine: one tar per replica with container paths, deletes through exec, failures named.

import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { syncFiles } from '../../builder/sync.ts';
import { makeTree, parseTar, readAll, tempDir } from '../../builder/testing.ts';
import type { ContainerCreateSpec } from '../../daemon/api/engine.ts';
import { CmeshError } from '../../daemon/api/errors.ts';
import { FakeEngine } from '../../daemon/engine/fake-engine.ts';

/** Keeps the tar bytes the fake engine only counts, so the test can read what was sent. */
class RecordingEngine extends FakeEngine {
  readonly tars: { id: string; path: string; bytes: Buffer }[] = [];
  override async putArchive(id: string, path: string, tar: Readable): Promise<void> {
    const bytes = await readAll(tar);
    this.tars.push({ id, path, bytes });
    return super.putArchive(id, path, Readable.from([bytes]));
  }
}

function spec(name: string): ContainerCreateSpec {
  return { name, image: 'p-web:latest', env: {}, labels: {}, ports: [], mounts: [], networks: [], init: false };
}

let dir: string;
let dispose: () => Promise<void>;
before(async () => {
  const t = await tempDir('cm-sync-');
  dir = t.path;
  dispose = t[Symbol.asyncDispose];
  await makeTree(dir, [['src/a.js', 'A', 0o644], ['src/run.sh', '#!/bin/sh\n', 0o755], ['src/gone.js', 'x']]);
});
after(() => dispose());

async function engineWith(replicas: number) {
  const engine = new RecordingEngine();
  const ids: string[] = [];
  for (let i = 1; i <= replicas; i++) {
    const { id } = await engine.createContainer(spec(`p-web-${i}`));
    await engine.startContainer(id);
    ids.push(id);
  }
  const execs: { id: string; command: string[] }[] = [];
  engine.setExecHandler((c, command) => {
    execs.push({ id: c.id, command });
    return { exitCode: 0, output: '' };
  });
  return { engine, ids, execs };
}

test('changed files go to every replica as one tar at their container paths; deletes use rm -rf', async () => {
  const { engine, ids, execs } = await engineWith(2);
  await rm(join(dir, 'src/gone.js'), { force: true });
  const res = await syncFiles({
    engine,
    containerIds: ids,
    files: [
      { path: join(dir, 'src/a.js'), containerPath: '/app/src/a.js', kind: 'change' },
      { path: join(dir, 'src/run.sh'), containerPath: '/app/src/run.sh', kind: 'add' },
      // Announced as a change but gone by now: the filesystem wins, so it is deleted.
      { path: join(dir, 'src/gone.js'), containerPath: '/app/src/gone.js', kind: 'change' },
      { path: join(dir, 'src/old.js'), containerPath: '/app/src/old.js', kind: 'unlink' },
      // Restart-only rules carry no container path: nothing to copy.
      { path: join(dir, 'config.yml'), kind: 'change' },
    ],
  });
  assert.deepEqual(res, { copied: ['/app/src/a.js', '/app/src/run.sh'], deleted: ['/app/src/gone.js', '/app/src/old.js'] });
  assert.deepEqual(engine.archives.map((a) => [a.id, a.path]), ids.map((id) => [id, '/']));
  assert.ok(engine.tars[0]!.bytes.equals(engine.tars[1]!.bytes), 'same tar for every replica');
  const entries = await parseTar(engine.tars[0]!.bytes);
  assert.deepEqual(entries.map((e) => [e.name, e.mode.toString(8), e.content.toString()]), [
    ['app/src/a.js', '644', 'A'],
    ['app/src/run.sh', '755', '#!/bin/sh\n'],
  ]);
  assert.deepEqual(execs.map((e) => e.id), ids);
  assert.deepEqual(execs[0]!.command, ['rm', '-rf', '--', '/app/src/gone.js', '/app/src/old.js']);
});

test('only deletions: no putArchive at all', async () => {
  const { engine, ids, execs } = await engineWith(1);
  await syncFiles({ engine, containerIds: ids, files: [{ path: join(dir, 'x'), containerPath: '/app/x', kind: 'unlink' }] });
  assert.equal(engine.archives.length, 0);
  assert.equal(execs.length, 1);
});

test('a replica that fails is reported after the others were synced', async () => {
  const { engine, ids } = await engineWith(2);
  engine.setExecHandler(() => ({ exitCode: 1, output: 'rm: read-only file system' }));
  const err = await syncFiles({
    engine,
    containerIds: [...ids, 'missing-container'],
    files: [
      { path: join(dir, 'src/a.js'), containerPath: '/app/src/a.js', kind: 'change' },
      { path: join(dir, 'nope'), containerPath: '/app/nope', kind: 'unlink' },
    ],
  }).then(
    () => assert.fail('expected failure'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof CmeshError);
  assert.equal(err.code, 'CMESH_E_ENGINE');
  assert.match(err.message, /3 of 3 replicas/);
  assert.equal(engine.archives.length, 2, 'the live replicas still got the files');
  assert.match(String((err.details.failures as string[]).join('\n')), /read-only file system/);
});
