// extends and include failures: each is a CmeshError with a stable code, the file:line:col of the node that
// caused it, and a hint; plus the merge details the golden models do not show.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are compose interpolation syntax under test.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURES, fixture, load, loadError, where } from './test-helpers.ts';

const readFile = (f: string) => readFileSync(f, 'utf8');

test('a circular extends is an error at the extends that closes the loop', () => {
  const src = fixture('bad/extends-cycle.yaml');
  const err = loadError([src]);
  assert.equal(err.code, 'CMESH_E_CONFIG_INVALID');
  assert.match(err.issues[0]?.message ?? '', /circular extends: a → b → c → a/);
  assert.deepEqual(where(err).slice(0, 1), ['9:14 services.c.extends']);
  assert.equal(err.issues[0]?.position?.file, src.file);
  assert.match(err.issues[0]?.hint ?? '', /remove the extends/);
});

test('extends of an unknown service names it and lists the services there', () => {
  const err = loadError([fixture('bad/extends-unknown-service.yaml')]);
  assert.deepEqual(where(err), ['5:16 services.web.extends']);
  assert.match(err.issues[0]?.message ?? '', /cannot extend service "bsae": no such service in this file/);
  assert.match(err.issues[0]?.hint ?? '', /services there: web, base/);
});

test('a resource defined differently in an included file and the including one is an error naming both files', () => {
  const dir = join(FIXTURES, 'bad/include-conflict');
  const err = loadError([fixture('bad/include-conflict/compose.yaml')], { readFile });
  assert.equal(err.code, 'CMESH_E_CONFIG_INVALID');
  assert.deepEqual(where(err), ['2:5 include[0]']);
  assert.equal(err.issues[0]?.message, `service "web" is defined both in ${join(dir, 'other.yaml')} and in ${join(dir, 'compose.yaml')}`);
  assert.match(err.issues[0]?.hint ?? '', /rename one of them/);
});

test('the same file included twice (identical resources) is fine', () => {
  const file = join(FIXTURES, 'bad/include-conflict/twice.yaml');
  const { project } = load('include: [other.yaml, {path: ./other.yaml}]\n', { readFile }, file);
  assert.deepEqual(Object.keys(project.services).sort(), ['api', 'web']);
});

test('an include cycle is an error at the include entry that closes it', () => {
  const root = join(FIXTURES, 'bad/include-cycle');
  const err = loadError([fixture('bad/include-cycle/compose.yaml')], { readFile });
  assert.equal(err.issues[0]?.position?.file, join(root, 'sub/inner.yaml'));
  assert.deepEqual(where(err), ['2:5 include[0]']);
  assert.match(err.issues[0]?.message ?? '', /circular include: .*compose\.yaml → .*inner\.yaml → .*compose\.yaml/);
});

test('missing extends/include files are CONFIG_NOT_FOUND at the node that names them', () => {
  const err = loadError([fixture('bad/include-missing.yaml')], { readFile });
  assert.equal(err.code, 'CMESH_E_CONFIG_NOT_FOUND');
  assert.deepEqual(where(err), ['5:13 services.web.extends', '8:5 include[0]']);
  assert.match(err.issues[0]?.message ?? '', /cannot read compose file .*no-such-dir\/base\.yaml: not found/);
  assert.match(err.issues[0]?.hint ?? '', /relative paths start from/);
  // Without file access (a pure load) the same entries are CONFIG_READ, never a crash.
  assert.equal(loadError([fixture('bad/include-missing.yaml')]).code, 'CMESH_E_CONFIG_READ');
});

test('extends: healthcheck and build mappings merge, !reset in the local service drops an inherited key', () => {
  const { project } = load(
    [
      'services:',
      '  base:',
      '    build: {context: ., args: {A: "1"}}',
      '    healthcheck: {test: ["CMD", "true"], interval: 5s}',
      '    ports: ["8080:80"]',
      '  web:',
      '    extends: base',
      '    build: {args: {B: "2"}}',
      '    healthcheck: {interval: 9s}',
      '    ports: !reset []',
      '',
    ].join('\n'),
  );
  const web = project.services['web']!;
  assert.deepEqual(web.build?.args, { A: '1', B: '2' });
  assert.deepEqual(web.healthcheck?.test, ['CMD', 'true']);
  assert.equal(web.healthcheck?.intervalMs, 9000);
  assert.deepEqual(web.ports, []);
});

test('extends does not inherit depends_on, volumes_from or links, and an unused base stays a service', () => {
  const { project } = load('services:\n  db: {image: pg}\n  base: {image: x, depends_on: [db], links: [db]}\n  web: {extends: base}\n');
  assert.deepEqual(project.services['web']?.dependsOn, {});
  assert.ok(project.services['base']?.dependsOn['db']);
});

test('include: an included file may not see variables of its .env leak into the including file', () => {
  const file = join(FIXTURES, 'golden/include/compose.yaml');
  const { project, warnings } = load('include: [lib/compose.yaml]\nservices:\n  app: {image: "app:${REDIS_TAG:-none}"}\n', { readFile }, file);
  assert.equal(project.services['app']?.image, 'app:none');
  assert.equal(project.services['cache']?.image, 'redis:7-from-lib-dotenv');
  assert.deepEqual(warnings, []);
});

test('${COMPOSE_PROJECT_NAME} in an included file is the including project name', () => {
  const file = join(FIXTURES, 'golden/include/other.yaml');
  const text = 'name: outer\ninclude: [../interpolation/compose.yaml]\nservices: {}\n';
  const { project } = load(text, { readFile }, file);
  assert.equal(project.services['web']?.environment['PROJECT'], 'outer');
});
