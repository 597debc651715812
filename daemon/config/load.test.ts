// loadProject against a real temporary directory: discovery, overrides, .env, --env-file, env_file, read errors.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are compose interpolation syntax under test.

import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CmeshError } from '../api/errors.ts';
import { nodeWithoutDac } from '../../test/helpers/without-dac.ts';
import { loadProject, projectToComposeYaml } from './load.ts';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'cmesh-config-')));
after(() => rmSync(root, { recursive: true, force: true }));

function dir(name: string, files: Record<string, string>): string {
  const d = join(root, name);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(d, rel, '..'), { recursive: true });
    writeFileSync(join(d, rel), text);
  }
  mkdirSync(d, { recursive: true });
  return d;
}

async function rejects(p: Promise<unknown>, code: string): Promise<CmeshError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CmeshError);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail('expected a rejection');
}

test('discovers compose.yaml in a parent directory and merges compose.override.yaml', async () => {
  const d = dir('Walk_Up', {
    'compose.yaml': 'services:\n  web:\n    image: web:1\n    ports: ["8080:80"]\n',
    'compose.override.yaml': 'services:\n  web:\n    image: web:dev\n',
    'docker-compose.yml': 'services: {}\n',
    'sub/deeper/.keep': '',
  });
  const { project, warnings } = await loadProject({ cwd: join(d, 'sub', 'deeper'), env: {} });
  assert.equal(project.name, 'walk_up');
  assert.equal(project.workingDir, d);
  assert.deepEqual(project.files, [join(d, 'compose.yaml'), join(d, 'compose.override.yaml')]);
  assert.equal(project.services['web']?.image, 'web:dev');
  assert.match(warnings[0]?.message ?? '', /several compose files/);
});

test('legacy docker-compose.yml names are found', async () => {
  const d = dir('legacy', { 'docker-compose.yml': 'services:\n  a: {image: a}\n', 'docker-compose.override.yml': 'services:\n  a: {image: b}\n' });
  assert.equal((await loadProject({ cwd: d, env: {} })).project.services['a']?.image, 'b');
});

test('-f files are merged in order and relative to cwd; project dir is the first file\'s folder', async () => {
  const d = dir('multi', { 'base/compose.yaml': 'services:\n  a:\n    image: a\n    volumes: [./data:/data]\n', 'prod.yaml': 'services:\n  a: {image: a:prod}\n' });
  const { project } = await loadProject({ cwd: d, files: ['base/compose.yaml', 'prod.yaml'], env: {} });
  assert.equal(project.services['a']?.image, 'a:prod');
  assert.equal(project.services['a']?.volumes[0]?.source, join(d, 'base', 'data'));
  const other = await loadProject({ cwd: d, files: ['base/compose.yaml'], projectDirectory: '.', env: {} });
  assert.equal(other.project.services['a']?.volumes[0]?.source, join(d, 'data'));
});

test('COMPOSE_FILE is used when no -f is given', async () => {
  const d = dir('envfile-list', { 'one.yaml': 'services:\n  a: {image: one}\n', 'two.yaml': 'services:\n  a: {image: two}\n' });
  const { project } = await loadProject({ cwd: d, env: { COMPOSE_FILE: 'one.yaml:two.yaml' } });
  assert.equal(project.services['a']?.image, 'two');
});

test('.env in the project dir feeds interpolation; process env wins; --env-file replaces it', async () => {
  const d = dir('dotenv', {
    'compose.yaml': 'services:\n  a:\n    image: "app:${TAG}"\n    env_file: [app.env]\n',
    '.env': 'TAG=dot\nCOMPOSE_PROJECT_NAME=fromdotenv\n',
    'app.env': 'GREETING=hello ${TAG}\n',
    'prod.env': 'TAG=prod\n',
  });
  const a = await loadProject({ cwd: d, env: {} });
  assert.equal(a.project.services['a']?.image, 'app:dot');
  assert.equal(a.project.name, 'fromdotenv');
  assert.deepEqual(a.project.services['a']?.environment, { GREETING: 'hello dot' });
  assert.equal((await loadProject({ cwd: d, env: { TAG: 'env' } })).project.services['a']?.image, 'app:env');
  const b = await loadProject({ cwd: d, envFiles: ['prod.env'], env: {} });
  assert.equal(b.project.services['a']?.image, 'app:prod');
  assert.equal(b.project.name, 'dotenv');
});

test('missing compose files and env files have their own codes', async () => {
  const empty = dir('nothing-here', { '.keep': '' });
  const err = await rejects(loadProject({ cwd: empty, env: {} }), 'CMESH_E_CONFIG_NOT_FOUND');
  assert.match(err.hint ?? '', /-f/);
  await rejects(loadProject({ cwd: empty, files: ['nope.yaml'], env: {} }), 'CMESH_E_CONFIG_NOT_FOUND');
  await rejects(loadProject({ cwd: root, files: ['nothing-here'], env: {} }), 'CMESH_E_CONFIG_READ');
  const d = dir('envmissing', { 'compose.yaml': 'services:\n  a: {image: a}\n' });
  await rejects(loadProject({ cwd: d, envFiles: ['missing.env'], env: {} }), 'CMESH_E_ENV_FILE');
  const bad = dir('envdir', { 'compose.yaml': 'services:\n  a: {image: a}\n', '.env/x': '' });
  await rejects(loadProject({ cwd: bad, env: {} }), 'CMESH_E_ENV_FILE');
});

test('unreadable env file is CMESH_E_ENV_FILE', async () => {
  const d = dir('envperm', { 'compose.yaml': 'services:\n  a: {image: a}\n', 'locked.env': 'A=1\n' });
  chmodSync(join(d, 'locked.env'), 0o000);
  if (process.getuid?.() !== 0) {
    await rejects(loadProject({ cwd: d, envFiles: ['locked.env'], env: {} }), 'CMESH_E_ENV_FILE');
    return;
  }
  // Root reads any file: the permission check runs in a child without root's file-permission capabilities.
  const loader = new URL('./load.ts', import.meta.url).pathname;
  const script = `import(${JSON.stringify(loader)}).then((m) => m.loadProject({ cwd: ${JSON.stringify(d)}, envFiles: ['locked.env'], env: {} })).then(() => console.log('LOADED'), (e) => console.log(e.code))`;
  const res = nodeWithoutDac(['-e', script]);
  const out = res.status === 0 ? res.stdout : assert.fail(`the child without DAC capabilities failed: ${res.stderr}`);
  assert.equal(out.trim(), 'CMESH_E_ENV_FILE');
});

test('oversized compose files are refused before reading', async () => {
  const d = dir('huge', { 'compose.yaml': `services: {}\n#${'x'.repeat(4 * 1024 * 1024)}\n` });
  await rejects(loadProject({ cwd: d, env: {} }), 'CMESH_E_CONFIG_LIMIT');
});

test('projectToComposeYaml output loads back to the same project', async () => {
  const d = dir('roundtrip', {
    'compose.yaml':
      'name: rt\nservices:\n  web:\n    build: {context: ., args: {A: "1"}}\n    command: npm start\n    ports: ["8080:80", "9000"]\n    environment: [A=1]\n    healthcheck: {test: curl -f http://localhost:80/h, interval: 1m30s}\n    depends_on: {db: {condition: service_healthy}}\n    restart: on-failure:3\n    volumes: [./src:/src, data:/data]\n    networks: {front: {aliases: [w]}}\n    x-cmesh: {lb: ewma, weights: [2, 1]}\n  db: {image: pg}\nnetworks: {front: {}}\nvolumes: {data: {}}\nx-meta: {owner: me}\n',
  });
  const first = await loadProject({ cwd: d, env: {} });
  const yaml = projectToComposeYaml(first.project);
  writeFileSync(join(d, 'compose.yaml'), yaml);
  const second = await loadProject({ cwd: d, env: {} });
  const strip = (p: typeof first.project) => JSON.parse(JSON.stringify({ ...p, services: Object.fromEntries(Object.entries(p.services).map(([k, s]) => [k, { ...s, position: undefined }])) }));
  const a = strip(first.project);
  const b = strip(second.project);
  // Volumes and networks render with their engine name, which is then taken as explicit: same engine names.
  assert.deepEqual(b.services, a.services);
  assert.deepEqual(Object.values(b.volumes).map((v) => (v as { engineName: string }).engineName), ['rt_data']);
  assert.deepEqual(b.extensions, a.extensions);
});

test('COMPOSE_FILE, COMPOSE_PATH_SEPARATOR and COMPOSE_PROFILES may come from .env; the process env and -f still win', async () => {
  const d = dir('dotenv-compose-vars', {
    '.env': 'COMPOSE_FILE=base.yaml;extra.yaml\nCOMPOSE_PATH_SEPARATOR=;\nCOMPOSE_PROFILES=tools\n',
    'base.yaml': 'services:\n  a: {image: base}\n  t: {image: tool, profiles: [tools]}\n',
    'extra.yaml': 'services:\n  a: {image: extra}\n',
    'compose.yaml': 'services:\n  a: {image: discovered}\n',
  });
  const { project } = await loadProject({ cwd: d, env: {} });
  assert.deepEqual(project.files, [join(d, 'base.yaml'), join(d, 'extra.yaml')]);
  assert.equal(project.services['a']?.image, 'extra');
  assert.deepEqual(Object.keys(project.services).sort(), ['a', 't']);
  assert.equal((await loadProject({ cwd: d, env: { COMPOSE_FILE: 'base.yaml' } })).project.services['a']?.image, 'base');
  assert.equal((await loadProject({ cwd: d, files: ['compose.yaml'], env: {} })).project.services['a']?.image, 'discovered');
  assert.deepEqual(Object.keys((await loadProject({ cwd: d, env: { COMPOSE_PROFILES: '' } })).project.services), ['a']);
});

test('extends.file and include are read from disk relative to the file that names them', async () => {
  const d = dir('disk-extends-include', {
    'app/compose.yaml': 'include: [../shared/db.yaml]\nservices:\n  web:\n    extends: {file: ../shared/base.yaml, service: base}\n    depends_on: [db]\n',
    'shared/base.yaml': 'services:\n  base:\n    build: ./web\n    ports: ["8080:80"]\n',
    'shared/db.yaml': 'services:\n  db:\n    image: pg\n    volumes: [./init:/docker-entrypoint-initdb.d]\n',
  });
  const { project } = await loadProject({ cwd: join(d, 'app'), env: {} });
  assert.equal(project.services['web']?.build?.context, join(d, 'shared', 'web'));
  assert.equal(project.services['web']?.ports[0]?.published, 8080);
  assert.equal(project.services['db']?.volumes[0]?.source, join(d, 'shared', 'init'));
  assert.ok(project.services['web']?.dependsOn['db']);
});
