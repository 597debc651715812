// ensureImages: build through the builder only when the context changed, typed errors (pulls: pull-images.test.ts).

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CmeshError } from './api/errors.ts';
import type { DaemonEvent } from './api/events.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { ensureImages } from './images.ts';
import { project, svc } from './reconcile/testing.ts';

let ctx: string;
before(async () => {
  ctx = await mkdtemp(join(tmpdir(), 'cm-ctx-'));
  await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
  await writeFile(join(ctx, 'app.js'), 'console.log(1)\n');
  await writeFile(join(ctx, '.dockerignore'), '# comment\n*.log\nsecret/\n!secret/keep.txt\n');
  await writeFile(join(ctx, 'debug.log'), 'noise');
  await mkdir(join(ctx, 'secret'));
  await writeFile(join(ctx, 'secret', 'key.pem'), 'x');
  await writeFile(join(ctx, 'secret', 'keep.txt'), 'y');
  await mkdir(join(ctx, 'node_modules', 'dep'), { recursive: true });
  await writeFile(join(ctx, 'node_modules', 'dep', 'index.js'), '');
  await mkdir(join(ctx, '.git'));
  await writeFile(join(ctx, '.git', 'HEAD'), 'ref');
});
after(() => rm(ctx, { recursive: true, force: true }));

test('auto builds a missing image once, then reuses it; the service image is set to the tag', async () => {
  const engine = new FakeEngine({ strictImages: true });
  const events: DaemonEvent[] = [];
  const spec = project('shop', [svc('web', { image: undefined, build: { context: ctx, dockerfile: 'Dockerfile', args: {}, labels: {} } })]);
  const out = await ensureImages({ engine, project: spec, services: ['web'], build: 'auto', emit: (e) => events.push(e) });
  assert.match(out.services['web']?.image ?? '', /^shop-web:[0-9a-f]{12}$/);
  assert.equal(engine.callsOf('buildImage').length, 1);
  assert.deepEqual(events.filter((e) => e.type === 'build').map((e) => (e.type === 'build' ? e.phase : '')), ['start', 'step', 'done']);
  await ensureImages({ engine, project: spec, services: ['web'], build: 'auto', emit: () => undefined });
  assert.equal(engine.callsOf('buildImage').length, 1, 'an unchanged context is not rebuilt');
  await ensureImages({ engine, project: spec, services: ['web'], build: 'always', emit: () => undefined });
  assert.equal(engine.callsOf('buildImage').length, 2);
});

test('an image its registry does not have is CMESH_E_IMAGE_NOT_FOUND; build errors are CMESH_E_BUILD_FAILED', async () => {
  const engine = new FakeEngine({ strictImages: true });
  const pulled = project('p', [svc('db', { image: 'postgres:16' })]);
  await assert.rejects(ensureImages({ engine, project: pulled, services: ['db'], build: 'auto', emit: () => undefined }), (e: unknown) => {
    assert.ok(e instanceof CmeshError && e.code === 'CMESH_E_IMAGE_NOT_FOUND', String(e));
    assert.match(e.message, /service "db".*postgres:16/);
    return true;
  });
  const built = project('p', [svc('web', { image: undefined, build: { context: ctx, dockerfile: 'Dockerfile', args: {}, labels: {} } })]);
  await assert.rejects(ensureImages({ engine, project: built, services: ['web'], build: 'never', emit: () => undefined }), /not built/);
  engine.setBuildScript({ fail: 'RUN false returned 1' });
  const events: DaemonEvent[] = [];
  await assert.rejects(
    ensureImages({ engine, project: built, services: ['web'], build: 'auto', emit: (e) => events.push(e) }),
    (e: unknown) => e instanceof CmeshError && e.code === 'CMESH_E_BUILD_FAILED',
  );
  assert.ok(events.some((e) => e.type === 'build' && e.phase === 'failed'));
});
