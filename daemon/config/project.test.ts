// Project-level rules: name precedence and validation, profiles, top-level networks/volumes, extensions, version.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeProjectName } from './normalize/project-name.ts';
import { load, loadError, where } from './test-helpers.ts';

const MIN = 'services:\n  web:\n    image: x\n';

test('project name precedence (Compose): -p, then COMPOSE_PROJECT_NAME, then name:, then the directory', () => {
  const named = `name: from-file\n${MIN}`;
  assert.equal(load(named, { projectName: 'flag', env: { COMPOSE_PROJECT_NAME: 'env' } }).project.name, 'flag');
  assert.equal(load(named, { env: { COMPOSE_PROJECT_NAME: 'env' } }).project.name, 'env');
  assert.equal(load(MIN, { env: { COMPOSE_PROJECT_NAME: 'env' } }).project.name, 'env');
  assert.equal(load(MIN, { envFiles: [{ file: '/proj/.env', text: 'COMPOSE_PROJECT_NAME=dotenv\n' }] }).project.name, 'dotenv');
  assert.equal(load(MIN, {}, '/home/me/My.Project_1/compose.yaml').project.name, 'myproject_1');
  assert.equal(load(MIN, { projectDirectory: '/srv/-Shop-' }).project.name, 'shop-');
});

test('name: is interpolated', () => {
  assert.equal(load(`name: app-\${STAGE:-dev}\n${MIN}`).project.name, 'app-dev');
});

test('explicit names must already be valid; directory names are normalized', () => {
  for (const bad of ['Upper', '-lead', 'sp ace', 'dot.ted']) {
    if (bad === '') continue;
    const err = loadError(MIN, { projectName: bad });
    assert.equal(err.code, 'CMESH_E_CONFIG_INVALID', bad);
    assert.match(err.issues[0]?.message ?? '', /not a valid project name.*-p/);
  }
  assert.match(loadError(MIN, { env: { COMPOSE_PROJECT_NAME: 'Bad Name' } }).issues[0]?.message ?? '', /COMPOSE_PROJECT_NAME/);
  const err = loadError([{ file: '/___/compose.yaml', text: MIN }]);
  assert.match(err.issues[0]?.message ?? '', /cannot derive a project name/);
  assert.equal(normalizeProjectName('__My App!'), 'myapp');
});

test('profiles: services with profiles are excluded unless activated', () => {
  const yaml = 'services:\n  web: {image: x}\n  debug: {image: d, profiles: [debug]}\n  tools: {image: t, profiles: [tools, ops]}\n';
  assert.deepEqual(Object.keys(load(yaml).project.services), ['web']);
  assert.deepEqual(Object.keys(load(yaml, { profiles: ['debug'] }).project.services), ['web', 'debug']);
  assert.deepEqual(Object.keys(load(yaml, { profiles: ['ops'] }).project.services), ['web', 'tools']);
  assert.deepEqual(Object.keys(load(yaml, { profiles: ['*'] }).project.services), ['web', 'debug', 'tools']);
  assert.deepEqual(Object.keys(load(yaml, { env: { COMPOSE_PROFILES: 'debug, tools' } }).project.services), ['web', 'debug', 'tools']);
  assert.deepEqual(load(yaml, { profiles: ['debug'] }).project.profiles, ['debug']);
});

test('depending on a profile-disabled service is an error unless optional', () => {
  const yaml = 'services:\n  web:\n    image: x\n    depends_on: [db]\n  db: {image: d, profiles: [db]}\n';
  const err = loadError(yaml);
  assert.deepEqual(where(err), ['4:18 services.web.depends_on[0]']);
  assert.match(err.issues[0]?.hint ?? '', /--profile db/);
  assert.deepEqual(Object.keys(load(yaml, { profiles: ['db'] }).project.services), ['web', 'db']);
  const optional = load('services:\n  web:\n    image: x\n    depends_on:\n      db: {required: false}\n  db: {image: d, profiles: [db]}\n');
  assert.deepEqual(optional.project.services['web']?.dependsOn, {});
});

test('top-level networks and volumes with engine names', () => {
  const p = load(`name: shop\n${MIN}networks:\n  front:\n  back:\n    driver: bridge\n    internal: true\n    labels: [tier=back]\n  ext:\n    external: true\n  named:\n    name: custom-net\n  legacy:\n    external:\n      name: old-net\nvolumes:\n  data:\n  logs:\n    driver: local\n    labels: {keep: "yes"}\n  shared:\n    external: true\n    name: team-shared\n`).project;
  assert.deepEqual(p.networks['back'], { name: 'back', engineName: 'shop_back', external: false, driver: 'bridge', labels: { tier: 'back' }, internal: true });
  assert.equal(p.networks['front']?.engineName, 'shop_front');
  assert.deepEqual([p.networks['ext']?.engineName, p.networks['ext']?.external], ['ext', true]);
  assert.equal(p.networks['named']?.engineName, 'custom-net');
  assert.equal(p.networks['legacy']?.engineName, 'old-net');
  assert.deepEqual(p.networks['default'], { name: 'default', engineName: 'shop_default', external: false, internal: false, labels: {} });
  assert.deepEqual(p.volumes['data'], { name: 'data', engineName: 'shop_data', external: false, labels: {} });
  assert.deepEqual(p.volumes['logs'], { name: 'logs', engineName: 'shop_logs', external: false, driver: 'local', labels: { keep: 'yes' } });
  assert.deepEqual([p.volumes['shared']?.engineName, p.volumes['shared']?.external], ['team-shared', true]);
});

test('x-* extensions are kept; version warns; unsupported top-level keys warn', () => {
  const r = load(`version: "3.9"\nx-defaults: &d {restart: always}\nx-list: [1, 2]\nmodels:\n  m: {model: x}\n${MIN}`);
  assert.deepEqual(r.project.extensions, { 'x-defaults': { restart: 'always' }, 'x-list': [1, 2] });
  assert.deepEqual(r.warnings.map((w) => `${w.position?.line}:${w.position?.col} ${w.path}`), ['4:1 models', '1:1 version']);
  assert.match(r.warnings[1]?.message ?? '', /obsolete/);
});

test('working dir and file list', () => {
  const p = load(MIN, { projectDirectory: '../other' }).project;
  assert.equal(p.workingDir, '/other');
  assert.deepEqual(p.files, ['/proj/compose.yaml']);
});

test('no services: a warning, not an error', () => {
  const r = load('name: empty\nvolumes:\n  v: {}\n');
  assert.deepEqual(r.project.services, {});
  assert.match(r.warnings[0]?.message ?? '', /no `services:`/);
});
