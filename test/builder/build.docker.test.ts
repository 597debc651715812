// buildService against the real engine: labelled images, the content-hash cache, rebuild on change, failing steps.
// Everything built carries dev.cmesh.test=true and this run's labels (but the unlabelled build, found by its repository
// name), and is removed in after().

import assert from 'node:assert/strict';
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildService, CONTEXT_HASH_LABEL } from '../../builder/build.ts';
import { makeTree, tempDir } from '../../builder/testing.ts';
import type { BuildOptions, ContainerEngine } from '../../daemon/api/engine.ts';
import { CmeshError } from '../../daemon/api/errors.ts';
import type { DaemonEvent } from '../../daemon/api/events.ts';
import type { ServiceSpec } from '../../daemon/api/project.ts';
import { createDockerEngine } from '../../daemon/engine/dockerode-engine.ts';
import { svc } from '../../daemon/reconcile/testing.ts';
import { newRunId, ROOT, requireDocker, run, testLabels, dockerTestFile } from '../helpers/docker.ts';

await dockerTestFile();

const runId = newRunId('builder');
const project = runId;
const labels = testLabels(runId);
const real = createDockerEngine();
let buildCalls = 0;
/** The real engine, counting build calls so a cache hit can be shown to skip the engine's builder entirely. */
const engine: ContainerEngine = new Proxy(real, {
  get(target, prop, receiver) {
    if (prop === 'buildImage') {
      return (options: BuildOptions) => {
        buildCalls++;
        return target.buildImage(options);
      };
    }
    const value = Reflect.get(target, prop, receiver);
    return typeof value === 'function' ? value.bind(target) : value;
  },
});

let dir: string;
let dispose: () => Promise<void> = async () => {};
before(async () => {
  await requireDocker();
  for (const base of ['cmesh/node:local', 'cmesh/busybox:local']) {
    if (!(await real.inspectImage(base))) throw new Error(`${base} is missing: run bash scripts/build-base-images.sh`);
  }
  const t = await tempDir('cm-build-docker-');
  dir = t.path;
  dispose = t[Symbol.asyncDispose];
  // A copy, so the change-a-file test never touches the repository's fixture.
  await cp(join(ROOT, 'fixtures/docker/echo'), join(dir, 'echo'), { recursive: true });
});

after(async () => {
  // Unlabelled builds (no build.labels) are found by their repository name instead.
  const labelled = await run(['images', '-aq', '--filter', `label=dev.cmesh.test-run=${runId}`]).catch(() => '');
  const plain = await run(['images', '-q', '--filter', `reference=${project}-plain`]).catch(() => '');
  const ids = `${labelled}\n${plain}`.split('\n').filter(Boolean);
  if (ids.length > 0) await run(['rmi', '-f', ...new Set(ids)]).catch(() => {});
  await dispose();
});

const service = (name: string, context: string, dockerfile = 'Dockerfile'): ServiceSpec =>
  svc(name, { image: undefined, build: { context, dockerfile, args: {}, labels } });

test('echo fixture: built with labels, then a cache hit without an engine build, then a rebuild on change', async () => {
  const events: DaemonEvent[] = [];
  const echo = service('echo', join(dir, 'echo'));
  const first = await buildService({ engine, project, service: echo, emit: (e) => events.push(e) });
  assert.equal(first.cached, false);
  assert.match(first.imageId, /^sha256:/);
  const img = await real.inspectImage(first.image);
  assert.equal(img?.id, first.imageId);
  assert.equal(img?.labels[CONTEXT_HASH_LABEL], first.hash);
  assert.equal(img?.labels['dev.cmesh.project'], project);
  assert.equal(img?.labels['dev.cmesh.service'], 'echo');
  assert.equal(img?.labels['dev.cmesh.test'], 'true');
  assert.ok(img?.tags.includes(`${project}-echo:latest`));
  const steps = events.filter((e) => e.type === 'build' && e.phase === 'step');
  assert.ok(steps.length >= 3, 'step events come from the parsed build stream');

  const callsBefore = buildCalls;
  const t0 = performance.now();
  const second = await buildService({ engine, project, service: echo });
  const elapsed = performance.now() - t0;
  assert.equal(second.cached, true);
  assert.equal(second.imageId, first.imageId);
  assert.equal(buildCalls, callsBefore, 'no engine build on a cache hit');
  assert.ok(elapsed < 200, `cache hit took ${elapsed.toFixed(0)} ms`);

  await writeFile(join(dir, 'echo/server.mjs'), '\n// changed by test/builder/build.docker.test.ts\n', { flag: 'a' });
  const third = await buildService({ engine, project, service: echo });
  assert.equal(third.cached, false);
  assert.notEqual(third.hash, first.hash);
  assert.notEqual(third.imageId, first.imageId);
});

async function expectBuildFailure(svcSpec: ServiceSpec): Promise<CmeshError> {
  const err = await buildService({ engine, project, service: svcSpec }).then(
    () => assert.fail('the build should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof CmeshError, String(err));
  assert.equal(err.code, 'CMESH_E_BUILD_FAILED');
  assert.ok(err.hint);
  return err;
}

test('a failing RUN is CMESH_E_BUILD_FAILED naming the service and the step', async () => {
  await makeTree(dir, [['broken/Dockerfile', 'FROM cmesh/busybox:local\nRUN echo about to fail && exit 3\n']]);
  const err = await expectBuildFailure(service('broken', join(dir, 'broken')));
  assert.match(err.message, /service "broken": build failed at step 2\/\d+ \(RUN echo about to fail && exit 3\)/);
  assert.equal(err.details.service, 'broken');
  assert.ok((err.details.output as string[]).some((l) => l.includes('about to fail')), 'last output lines kept');
});

test('a missing COPY source is CMESH_E_BUILD_FAILED naming the step', async () => {
  await makeTree(dir, [['nocopy/Dockerfile', 'FROM cmesh/busybox:local\nCOPY does-not-exist.txt /\n']]);
  const err = await expectBuildFailure(service('nocopy', join(dir, 'nocopy')));
  assert.match(err.message, /step 2\/\d+ \(COPY does-not-exist\.txt \/\)/);
});

test('a Dockerfile outside the context builds (compose `dockerfile: ../x.Dockerfile`)', async () => {
  await makeTree(dir, [
    ['outside/ctx/hello.txt', 'hello\n'],
    ['outside/x.Dockerfile', 'FROM cmesh/busybox:local\nCOPY hello.txt /hello.txt\n'],
  ]);
  const res = await buildService({ engine, project, service: service('outside', join(dir, 'outside/ctx'), '../x.Dockerfile') });
  assert.equal(res.cached, false);
  assert.ok(await real.inspectImage(res.image));
});

test('all labels in one LABEL step; the generated Dockerfile copy never reaches `COPY .`', async () => {
  await makeTree(dir, [
    ['copyall/Dockerfile', 'FROM cmesh/busybox:local\nCOPY . /ctx/\nRUN ls -a /ctx > /listing\n'],
    ['copyall/a.txt', 'a\n'],
  ]);
  const events: DaemonEvent[] = [];
  const res = await buildService({ engine, project, service: service('copyall', join(dir, 'copyall')), emit: (e) => events.push(e) });
  const steps = events.flatMap((e) => (e.type === 'build' && e.phase === 'step' && e.text ? [e.text] : []));
  assert.equal(steps.filter((t) => t.startsWith('LABEL')).length, 1, steps.join('\n'));
  const img = await real.inspectImage(res.image);
  assert.equal(img?.labels[CONTEXT_HASH_LABEL], res.hash);
  assert.equal(img?.labels['dev.cmesh.service'], 'copyall');
  const listing = await run(['run', '--rm', '--label', 'dev.cmesh.test=true', '--label', `dev.cmesh.test-run=${runId}`, res.image, 'cat', '/listing']);
  assert.deepEqual(listing.split('\n').filter((l) => l !== '.' && l !== '..'), ['Dockerfile', 'a.txt']);
});

test('no build.labels: no LABEL step, no labels on the image, and the tag alone is a cache hit', async () => {
  await makeTree(dir, [['plain/Dockerfile', 'FROM cmesh/busybox:local\nCOPY a.txt /a.txt\n'], ['plain/a.txt', 'a\n']]);
  const plain = svc('plain', { image: undefined, build: { context: join(dir, 'plain'), dockerfile: 'Dockerfile', args: {}, labels: {} } });
  const events: DaemonEvent[] = [];
  const first = await buildService({ engine, project, service: plain, emit: (e) => events.push(e) });
  const steps = events.flatMap((e) => (e.type === 'build' && e.phase === 'step' && e.text ? [e.text] : []));
  assert.equal(steps.filter((t) => t.startsWith('LABEL')).length, 0, steps.join('\n'));
  const img = await real.inspectImage(first.image);
  assert.ok(img?.tags.includes(`${project}-plain:latest`), 'tagged latest in the same request');
  assert.deepEqual(img?.labels, (await real.inspectImage('cmesh/busybox:local'))?.labels, 'only what the base image has');
  const callsBefore = buildCalls;
  const second = await buildService({ engine, project, service: plain });
  assert.equal(second.cached, true);
  assert.equal(second.imageId, first.imageId);
  assert.equal(buildCalls, callsBefore);
});

test('build.dockerfile_inline is what gets built, not the Dockerfile sitting in the context', async () => {
  await makeTree(dir, [['inline/Dockerfile', 'FROM cmesh/busybox:local\nRUN echo from-disk > /marker\n'], ['inline/a.txt', 'a\n']]);
  const inline = 'FROM cmesh/busybox:local\nCOPY a.txt /a.txt\nRUN echo from-inline > /marker\n';
  const spec = svc('inline', { image: undefined, build: { context: join(dir, 'inline'), dockerfile: 'Dockerfile', dockerfileInline: inline, args: {}, labels } });
  const res = await buildService({ engine, project, service: spec });
  const marker = await run(['run', '--rm', '--label', 'dev.cmesh.test=true', '--label', `dev.cmesh.test-run=${runId}`, res.image, 'cat', '/marker']);
  assert.equal(marker.trim(), 'from-inline');
});
