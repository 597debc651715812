// The loaded-project cache (project-cache.ts): a hit replays the full load exactly; every input the load depended on
// (the files it read or probed, the env it read, the selection, the CLI build) invalidates it when it changes.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import type { LoadedProject } from '../daemon/api/project.ts';
import { loadProject } from '../daemon/config/load.ts';
import { addGlobalOptions, type ProjectSelection } from './global-options.ts';
import { cachedProject, loadAndCache, type ProjectCache, projectCacheFor } from './project-cache.ts';
import { loadComposeProject } from './project-ref.ts';
import { captureContext } from './test-helpers.ts';

const COMPOSE = 'services:\n  web:\n    image: nginx:alpine\n';

/** A project dir whose files are dated 10 s back, so an entry recorded now is not "racy". */
function project(files: Record<string, string>): { dir: string; cache: ProjectCache; write(name: string, text: string, ageS?: number): void } {
  const dir = mkdtempSync(join(tmpdir(), 'cmesh-project-cache-'));
  const write = (name: string, text: string, ageS = 10): void => {
    writeFileSync(join(dir, name), text);
    const when = Date.now() / 1000 - ageS;
    utimesSync(join(dir, name), when, when);
  };
  for (const [name, text] of Object.entries(files)) write(name, text);
  return { dir, cache: { dir: join(dir, '.cache'), build: 'build-a' }, write };
}

const load = (sel: ProjectSelection, seen: (path: string) => void): Promise<LoadedProject> => loadProject({ ...sel, seen });
const plain = (x: unknown): unknown => JSON.parse(JSON.stringify(x));

/** Loads once through the cache (storing an entry) and returns what a fresh load gives. */
async function prime(cache: ProjectCache, sel: ProjectSelection): Promise<LoadedProject> {
  assert.equal(cachedProject(cache, sel), undefined, 'no entry before the first load');
  return loadAndCache(cache, sel, load);
}

test('an unchanged project is answered from the cache, identical to a full load, warnings included', async (t) => {
  const p = project({ 'compose.yaml': `name: shop\n${COMPOSE}    unknown_key: 1\n` });
  t.after(() => rmSync(p.dir, { recursive: true, force: true }));
  const sel = { cwd: p.dir, env: { HOME: p.dir } };
  const fresh = await prime(p.cache, sel);
  assert.ok(fresh.warnings.length > 0, 'the fixture has a warning to replay');
  const hit = cachedProject(p.cache, sel);
  assert.ok(hit, 'second start hits');
  assert.deepEqual(hit, plain(fresh));
  assert.equal(hit.project.name, 'shop');
});

test('an edited compose file, same size or not, misses', async (t) => {
  const p = project({ 'compose.yaml': `name: aaaa\n${COMPOSE}` });
  t.after(() => rmSync(p.dir, { recursive: true, force: true }));
  const sel = { cwd: p.dir, env: {} };
  await prime(p.cache, sel);
  p.write('compose.yaml', `name: bbbb\n${COMPOSE}`, 5); // same size, other mtime
  assert.equal(cachedProject(p.cache, sel), undefined);
  const reloaded = await loadAndCache(p.cache, sel, load);
  assert.equal(reloaded.project.name, 'bbbb');
  assert.equal(cachedProject(p.cache, sel)?.project.name, 'bbbb');
});

test('a file modified just before the load is never trusted by its stat alone (racy entry)', async (t) => {
  const p = project({});
  t.after(() => rmSync(p.dir, { recursive: true, force: true }));
  p.write('compose.yaml', COMPOSE, 0);
  const sel = { cwd: p.dir, env: {} };
  await prime(p.cache, sel);
  assert.equal(cachedProject(p.cache, sel), undefined);
});

test('-p, COMPOSE_PROJECT_NAME and an interpolated name: each change misses and loads the right name', async (t) => {
  const p = project({ 'compose.yaml': `name: \${APP:-plain}\n${COMPOSE}` });
  t.after(() => rmSync(p.dir, { recursive: true, force: true }));
  await prime(p.cache, { cwd: p.dir, env: {} });
  assert.equal(cachedProject(p.cache, { cwd: p.dir, env: {} })?.project.name, 'plain');
  assert.equal(cachedProject(p.cache, { cwd: p.dir, env: { APP: 'other' } }), undefined, 'interpolated variable set');
  assert.equal((await loadAndCache(p.cache, { cwd: p.dir, env: { APP: 'other' } }, load)).project.name, 'other');
  assert.equal(cachedProject(p.cache, { cwd: p.dir, env: { APP: 'other', COMPOSE_PROJECT_NAME: 'envname' } }), undefined);
  assert.equal(cachedProject(p.cache, { cwd: p.dir, env: { APP: 'other' }, projectName: 'flag' }), undefined, '-p is part of the key');
  assert.equal((await loadAndCache(p.cache, { cwd: p.dir, env: {}, projectName: 'flag' }, load)).project.name, 'flag');
  assert.equal(cachedProject(p.cache, { cwd: p.dir, env: {}, projectName: 'flag' })?.project.name, 'flag');
  assert.equal(cachedProject(p.cache, { cwd: p.dir, env: { APP: 'other' } })?.project.name, 'other', 'each selection keeps its entry');
});

test('a .env that appears or changes misses', async (t) => {
  const p = project({ 'compose.yaml': `name: \${APP:-plain}\n${COMPOSE}` });
  t.after(() => rmSync(p.dir, { recursive: true, force: true }));
  const sel = { cwd: p.dir, env: {} };
  await prime(p.cache, sel);
  p.write('.env', 'APP=dotenv\n');
  assert.equal(cachedProject(p.cache, sel), undefined, '.env appeared');
  assert.equal((await loadAndCache(p.cache, sel, load)).project.name, 'dotenv');
  assert.equal(cachedProject(p.cache, sel)?.project.name, 'dotenv');
  p.write('.env', 'COMPOSE_PROJECT_NAME=fromenv\n', 3);
  assert.equal(cachedProject(p.cache, sel), undefined, '.env changed');
  assert.equal((await loadAndCache(p.cache, sel, load)).project.name, 'fromenv');
});

test('an override file that appears, or an included file that changes, misses', async (t) => {
  const p = project({ 'compose.yaml': `include:\n  - extra.yaml\n${COMPOSE}`, 'extra.yaml': 'services:\n  db:\n    image: redis\n' });
  t.after(() => rmSync(p.dir, { recursive: true, force: true }));
  const sel = { cwd: p.dir, env: {} };
  await prime(p.cache, sel);
  assert.ok(cachedProject(p.cache, sel));
  p.write('extra.yaml', 'services:\n  db:\n    image: redis:7\n', 5);
  assert.equal(cachedProject(p.cache, sel), undefined, 'included file changed');
  await loadAndCache(p.cache, sel, load);
  assert.ok(cachedProject(p.cache, sel));
  p.write('compose.override.yaml', 'services:\n  web:\n    image: nginx:1.27\n');
  assert.equal(cachedProject(p.cache, sel), undefined, 'override appeared');
  assert.equal((await loadAndCache(p.cache, sel, load)).project.services['web']?.image, 'nginx:1.27');
});

test('another CLI build misses; COMPOSE_FILE from .env (the whole env read) is not cached', async (t) => {
  const p = project({ 'compose.yaml': COMPOSE, 'other.yaml': COMPOSE });
  t.after(() => rmSync(p.dir, { recursive: true, force: true }));
  const sel = { cwd: p.dir, env: {} };
  await prime(p.cache, sel);
  assert.ok(cachedProject(p.cache, sel));
  assert.equal(cachedProject({ ...p.cache, build: 'build-b' }, sel), undefined);
  rmSync(p.cache.dir, { recursive: true });
  p.write('.env', 'COMPOSE_FILE=other.yaml\n');
  await prime(p.cache, sel);
  assert.equal(cachedProject(p.cache, sel), undefined);
});

test('a broken compose file is not cached: it fails on every start', async (t) => {
  const p = project({ 'compose.yaml': 'services: [\n' });
  t.after(() => rmSync(p.dir, { recursive: true, force: true }));
  const sel = { cwd: p.dir, env: {} };
  await assert.rejects(loadAndCache(p.cache, sel, load), /CMESH_E_CONFIG|yaml|YAML/);
  assert.deepEqual(readdirSync(p.dir).filter((n) => n === '.cache'), []);
});

test('the CLI uses the cache only with a known build and without CMESH_PROJECT_CACHE=0, and replays warnings', async (t) => {
  const p = project({ 'compose.yaml': `name: shop\n${COMPOSE}    unknown_key: 1\n` });
  t.after(() => rmSync(p.dir, { recursive: true, force: true }));
  assert.equal(projectCacheFor({ XDG_CACHE_HOME: p.dir }, undefined), undefined, 'running from sources: no cache');
  assert.equal(projectCacheFor({ XDG_CACHE_HOME: p.dir, CMESH_PROJECT_CACHE: '0' }, 'b'), undefined);
  const g = globalThis as { cmeshBuild?: string };
  g.cmeshBuild = 'build-test';
  t.after(() => delete g.cmeshBuild);
  const command = addGlobalOptions(new Command()).parse([], { from: 'user' });
  const runs = [captureContext({ cwd: p.dir, env: { XDG_CACHE_HOME: join(p.dir, 'xdg') } }), captureContext({ cwd: p.dir, env: { XDG_CACHE_HOME: join(p.dir, 'xdg') } })];
  const first = await loadComposeProject(command, runs[0]!);
  const entries = readdirSync(join(p.dir, 'xdg', 'cmesh', 'projects'));
  assert.equal(entries.length, 1);
  // Prove the second start reads the entry: a name only the entry has.
  const file = join(p.dir, 'xdg', 'cmesh', 'projects', entries[0]!);
  writeFileSync(file, readFileSync(file, 'utf8').replace('"name":"shop"', '"name":"from-cache"'));
  const second = await loadComposeProject(command, runs[1]!);
  assert.equal(first.project.name, 'shop');
  assert.equal(second.project.name, 'from-cache');
  assert.match(runs[0]!.err(), /unknown_key/);
  assert.equal(runs[1]!.err(), runs[0]!.err());
});
