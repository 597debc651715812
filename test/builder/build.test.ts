// buildService / buildServices against the fake engine: tags and labels, content-keyed cache, events, errors.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildService, buildServices, CONTEXT_HASH_LABEL } from '../../builder/build.ts';
import { makeTree, tempDir } from '../../builder/testing.ts';
import { CmeshError } from '../../daemon/api/errors.ts';
import type { DaemonEvent } from '../../daemon/api/events.ts';
import { FakeEngine } from '../../daemon/engine/fake-engine.ts';
import { svc } from '../../daemon/reconcile/testing.ts';

let dir: string;
let dispose: () => Promise<void>;
before(async () => {
  const t = await tempDir('cm-build-');
  dir = t.path;
  dispose = t[Symbol.asyncDispose];
  await makeTree(dir, [['Dockerfile', 'FROM scratch\nCOPY a.txt /\n'], ['a.txt', 'a'], ['b/Dockerfile', 'FROM scratch\n']]);
});
after(() => dispose());

const web = () => svc('Web', { image: undefined, build: { context: dir, dockerfile: 'Dockerfile', args: { A: '1' }, labels: { team: 'x' } } });

test('first build tags and labels the image; an unchanged context is a cache hit without a build call', async () => {
  const engine = new FakeEngine({ strictImages: true });
  const events: DaemonEvent[] = [];
  const first = await buildService({ engine, project: 'demo', service: web(), emit: (e) => events.push(e) });
  assert.equal(first.cached, false);
  assert.equal(first.image, `demo-web:${first.hash.slice(0, 12)}`);
  assert.deepEqual(first.tags, ['demo-web:latest', first.image]);
  const img = await engine.inspectImage(first.image);
  assert.equal(img?.labels[CONTEXT_HASH_LABEL], first.hash);
  assert.equal(img?.labels['dev.cmesh.project'], 'demo');
  assert.equal(img?.labels['dev.cmesh.service'], 'Web');
  assert.equal(img?.labels.team, 'x');
  assert.deepEqual(events.map((e) => (e.type === 'build' ? e.phase : e.type)), ['start', 'step', 'done']);

  engine.clearCalls();
  const second = await buildService({ engine, project: 'demo', service: web() });
  assert.equal(second.cached, true);
  assert.equal(second.imageId, first.imageId);
  assert.equal(engine.callsOf('buildImage').length, 0);

  // force and noCache both go to the engine; noCache also disables its layer cache.
  await buildService({ engine, project: 'demo', service: web(), force: true });
  assert.equal(engine.callsOf('buildImage').length, 1);

  // Args are part of the key.
  const other = await buildService({ engine, project: 'demo', service: svc('Web', { build: { ...web().build!, args: { A: '2' } } }) });
  assert.notEqual(other.hash, first.hash);
  assert.equal(other.cached, false);

  await writeFile(join(dir, 'a.txt'), 'changed');
  const third = await buildService({ engine, project: 'demo', service: web() });
  assert.equal(third.cached, false);
  assert.notEqual(third.hash, first.hash);
  await writeFile(join(dir, 'a.txt'), 'a');
});

test('without build labels the image gets none (no LABEL step) and the content-addressed tag alone keys the cache', async () => {
  const engine = new FakeEngine({ strictImages: true });
  const plain = () => svc('api', { image: undefined, build: { context: dir, dockerfile: 'Dockerfile', args: {}, labels: {} } });
  const first = await buildService({ engine, project: 'demo', service: plain() });
  assert.equal(first.cached, false);
  assert.deepEqual(first.tags, ['demo-api:latest', first.image], 'one build request tags both');
  const [call] = engine.callsOf('buildImage');
  assert.equal((call!.args[0] as { dockerfile: string }).dockerfile, 'Dockerfile', 'the user’s Dockerfile, no LABEL line appended');
  assert.deepEqual((await engine.inspectImage(first.image))?.labels, {});

  engine.clearCalls();
  const second = await buildService({ engine, project: 'demo', service: plain() });
  assert.equal(second.cached, true);
  assert.equal(engine.callsOf('buildImage').length, 0);

  // An image under the tag whose full key says otherwise (a 48-bit collision) is not trusted.
  const other = new FakeEngine({ strictImages: true });
  other.addImage(first.image, { [CONTEXT_HASH_LABEL]: 'f'.repeat(64) });
  const rebuilt = await buildService({ engine: other, project: 'demo', service: plain() });
  assert.equal(rebuilt.cached, false);
  assert.equal(other.callsOf('buildImage').length, 1);
});

test('a failing step is rethrown with the service name, step details and a hint; a failed event is emitted', async () => {
  const engine = new FakeEngine({ strictImages: true });
  engine.setBuildScript({ fail: "The command '/bin/sh -c exit 3' returned a non-zero code: 3", output: ['boom'] });
  const events: DaemonEvent[] = [];
  const err = await buildService({ engine, project: 'demo', service: web(), emit: (e) => events.push(e) }).then(
    () => assert.fail('expected failure'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof CmeshError);
  assert.equal(err.code, 'CMESH_E_BUILD_FAILED');
  assert.match(err.message, /^service "Web": build failed at step 1\/1/);
  assert.equal(err.details.service, 'Web');
  assert.deepEqual(err.details.output, ['boom']);
  assert.ok(err.hint);
  const last = events.at(-1);
  assert.ok(last?.type === 'build' && last.phase === 'failed');
});

test('context errors carry the service name too', async () => {
  const engine = new FakeEngine();
  const bad = svc('api', { build: { context: join(dir, 'missing'), dockerfile: 'Dockerfile', args: {}, labels: {} } });
  await assert.rejects(buildService({ engine, project: 'demo', service: bad }), (e: unknown) => {
    assert.ok(e instanceof CmeshError);
    assert.equal(e.code, 'CMESH_E_BUILD_CONTEXT');
    assert.match(e.message, /^service "api": /);
    return true;
  });
});

test('buildServices builds at most two at once and skips services without build', async () => {
  const engine = new FakeEngine({ strictImages: true });
  let running = 0;
  let max = 0;
  const origBuild = engine.buildImage.bind(engine);
  engine.buildImage = async function* (options) {
    running++;
    max = Math.max(max, running);
    await new Promise((r) => setTimeout(r, 30));
    try {
      yield* origBuild(options);
    } finally {
      running--;
    }
  };
  const services = ['a', 'b', 'c', 'd'].map((n) =>
    svc(n, { build: { context: dir, dockerfile: 'Dockerfile', args: {}, labels: {} } }),
  );
  const res = await buildServices({ engine, project: 'demo', services: [...services, svc('db')] });
  assert.deepEqual(Object.keys(res).sort(), ['a', 'b', 'c', 'd']);
  assert.equal(max, 2);
});
