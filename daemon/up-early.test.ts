// Builds overlap with starts: during an `up`, the services that need no image being built start while the builds run
// (ProjectManager on the fake engine); the ones that need a built image, themselves or through depends_on, wait for it.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BuildOptions, BuildProgress } from './api/engine.ts';
import type { DesiredProject } from './api/desired.ts';
import { EventBus } from './event-bus.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { ProjectManager } from './projects.ts';
import { dep, project, svc } from './reconcile/testing.ts';
import { DesiredStore } from './store.ts';
import { readyWhileBuilding } from './up-prepare.ts';

test('readyWhileBuilding: neither it nor a dependency, transitively, is being built, and every edge is service_started', () => {
  const spec = project('p', [
    svc('db'),
    svc('api', { dependsOn: { db: dep() } }),
    svc('web', { dependsOn: { api: dep() } }),
    svc('worker', { dependsOn: { db: dep() } }),
    svc('cron'),
    svc('report', { dependsOn: { db: dep('service_healthy') } }),
    svc('mail', { dependsOn: { worker: dep() } }),
  ]);
  const all = ['db', 'api', 'web', 'worker', 'cron', 'report', 'mail'];
  // report waits for db's health: a gate that may take long must not hold the built services back.
  assert.deepEqual(readyWhileBuilding(spec, all, ['api']), ['cron', 'db', 'mail', 'worker']);
  assert.deepEqual(readyWhileBuilding(spec, ['web', 'cron', 'mail'], ['db']), ['cron']);
  assert.deepEqual(readyWhileBuilding(spec, ['api'], ['api']), []);
  const cycle = project('c', [svc('x', { dependsOn: { y: dep() } }), svc('y', { dependsOn: { x: dep() } }), svc('z')]);
  assert.deepEqual(readyWhileBuilding(cycle, ['x', 'y', 'z'], []), ['z'], 'a cycle is left to the plan to refuse');
});

test('up starts the services that need no build while the build runs, then the rest', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-early-'));
  const ctx = await mkdtemp(join(tmpdir(), 'cm-early-ctx-'));
  await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\n');
  // Strict images: the build is not skipped as already done; db, cache and web have theirs locally.
  const engine = new FakeEngine({ now: Date.now, strictImages: true });
  for (const s of ['db', 'cache', 'web']) engine.addImage(`example/${s}:1`);
  const running = async (service: string): Promise<boolean> =>
    (await engine.listContainers({ labels: { 'dev.cmesh.project': 'shop', 'dev.cmesh.service': service } })).some((c) => c.state === 'running');
  // The build goes on until db and cache run (or 3 s pass: then the assertions below fail).
  const seenDuringBuild: string[] = [];
  const build = engine.buildImage.bind(engine);
  engine.buildImage = (options: BuildOptions): AsyncIterable<BuildProgress> => ({
    async *[Symbol.asyncIterator]() {
      for (let waited = 0; waited < 3000 && !((await running('db')) && (await running('cache'))); waited += 10) await new Promise((r) => setTimeout(r, 10));
      for (const s of ['db', 'cache', 'api', 'web']) if (await running(s)) seenDuringBuild.push(s);
      yield* build(options);
    },
  });
  const saved: DesiredProject[] = [];
  const store = new DesiredStore(dir, () => undefined);
  const save = store.save.bind(store);
  store.save = async (d) => {
    saved.push(d);
    return save(d);
  };
  const manager = new ProjectManager({ engine, store, bus: new EventBus(), resyncMs: 60_000 });
  try {
    await manager.open();
    const spec = project('shop', [
      svc('db'),
      svc('cache'),
      svc('api', { image: undefined, build: { context: ctx, dockerfile: 'Dockerfile', args: {}, labels: {} }, dependsOn: { db: dep() } }),
      svc('web', { dependsOn: { api: dep() } }),
    ]);
    await manager.up('shop', { project: spec, services: [], build: 'auto', wait: false });
    assert.deepEqual(seenDuringBuild, ['db', 'cache'], 'db and cache ran before the build ended; api and web did not');
    for (const s of ['db', 'cache', 'api', 'web']) assert.ok(await running(s), `${s} runs after the up`);
    assert.deepEqual(
      saved.map((d) => d.selected),
      [['cache', 'db'], []],
      'a partial desired state first, then the whole project',
    );
    assert.equal(saved[0]!.generation, saved[1]!.generation, 'one up, one generation');
  } finally {
    await manager.close();
    await rm(dir, { recursive: true, force: true });
    await rm(ctx, { recursive: true, force: true });
  }
});

test('an up without builds commits its desired state once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-early-'));
  const engine = new FakeEngine({ now: Date.now });
  const store = new DesiredStore(dir, () => undefined);
  let saves = 0;
  const save = store.save.bind(store);
  store.save = async (d) => {
    saves++;
    return save(d);
  };
  const manager = new ProjectManager({ engine, store, bus: new EventBus(), resyncMs: 60_000 });
  try {
    await manager.open();
    await manager.up('shop', { project: project('shop', [svc('db'), svc('web', { dependsOn: { db: dep() } })]), services: [], build: 'auto', wait: false });
    assert.equal(saves, 1);
    assert.equal(engine.callsOf('createContainer').length, 2);
  } finally {
    await manager.close();
    await rm(dir, { recursive: true, force: true });
  }
});
