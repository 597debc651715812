// Interpolation forms, escapes, nesting and error reporting (pure string level, then through the loader).
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are compose interpolation syntax under test.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interpolate } from './interpolate.ts';
import { load, loadError, where } from './test-helpers.ts';

const env: Record<string, string> = { SET: 'value', EMPTY: '', PORT: '8080' };
const lookup = (n: string) => env[n];
const run = (s: string) => interpolate(s, lookup);

test('plain and braced variables', () => {
  assert.equal(run('$SET').value, 'value');
  assert.equal(run('${SET}').value, 'value');
  assert.equal(run('a-${SET}-b/$SET.c').value, 'a-value-b/value.c');
  assert.equal(run('no dollars').value, 'no dollars');
});

test('defaults: :- treats empty as unset, - does not', () => {
  assert.equal(run('${UNSET:-d}').value, 'd');
  assert.equal(run('${EMPTY:-d}').value, 'd');
  assert.equal(run('${EMPTY-d}').value, '');
  assert.equal(run('${UNSET-d}').value, 'd');
  assert.equal(run('${SET:-d}').value, 'value');
});

test('alternatives: :+ and +', () => {
  assert.equal(run('${SET:+alt}').value, 'alt');
  assert.equal(run('${EMPTY:+alt}').value, '');
  assert.equal(run('${EMPTY+alt}').value, 'alt');
  assert.equal(run('${UNSET+alt}').value, '');
});

test('required: :? and ? report the variable and message', () => {
  const r = run('${UNSET:?please set it}');
  assert.equal(r.problems[0]?.kind, 'required');
  assert.equal(r.problems[0]?.variable, 'UNSET');
  assert.match(r.problems[0]?.message ?? '', /required variable UNSET is missing a value: please set it/);
  assert.equal(run('${EMPTY:?x}').problems.length, 1);
  assert.equal(run('${EMPTY?x}').problems.length, 0);
  assert.equal(run('${UNSET?}').problems[0]?.message, 'required variable UNSET is missing a value');
});

test('$$ escapes a dollar and a lone $ stays literal', () => {
  assert.equal(run('$$SET').value, '$SET');
  assert.equal(run('cost: 5$ and $1 and $').value, 'cost: 5$ and $1 and $');
  assert.equal(run('$${SET}').value, '${SET}');
});

test('nested defaults are expanded lazily', () => {
  assert.equal(run('${UNSET:-${SET}}').value, 'value');
  assert.equal(run('${UNSET:-${ALSO_UNSET:-deep}}').value, 'deep');
  assert.equal(run('${SET:-${ALSO_UNSET}}').missing.length, 0);
  assert.equal(run('${UNSET:-http://${SET}:${PORT}/x}').value, 'http://value:8080/x');
});

test('missing variables become empty and are reported', () => {
  const r = run('a${UNSET}b$ALSO');
  assert.equal(r.value, 'ab');
  assert.deepEqual(r.missing, ['UNSET', 'ALSO']);
});

test('syntax errors are reported, not thrown', () => {
  assert.equal(run('${}').problems[0]?.kind, 'syntax');
  assert.equal(run('${FOO').problems[0]?.kind, 'syntax');
  assert.equal(run('${1FOO}').problems[0]?.kind, 'syntax');
  assert.equal(run('${FOO:x}').problems[0]?.kind, 'syntax');
});

test('pathological nesting is bounded', () => {
  const deep = `${'${A:-'.repeat(5000)}x${'}'.repeat(5000)}`;
  const r = run(deep);
  assert.ok(r.problems.some((p) => /nested deeper/.test(p.message)));
});

test('interpolation applies to values, not keys, and keeps the scalar position', () => {
  const yaml = 'services:\n  web:\n    image: "nginx:${TAG:-1.25}"\n    labels:\n      ${KEY}: "${SET}"\n';
  const { project, warnings } = load(yaml, { env: { SET: 'v' } });
  assert.equal(project.services['web']?.image, 'nginx:1.25');
  assert.deepEqual(project.services['web']?.labels, { '${KEY}': 'v' });
  assert.equal(warnings.length, 0);
});

test('unset variable without default warns once, with position', () => {
  const { project, warnings } = load('services:\n  web:\n    image: "nginx${TAG}"\n    command: ["${TAG}"]\n');
  assert.equal(project.services['web']?.image, 'nginx');
  const w = warnings.filter((x) => /"TAG" variable is not set/.test(x.message));
  assert.equal(w.length, 1);
  assert.deepEqual([w[0]?.position?.line, w[0]?.position?.col, w[0]?.path], [3, 12, 'services.web.image']);
});

test('process env wins over .env, and .env values interpolate', () => {
  const yaml = 'services:\n  web:\n    image: "app:${TAG}"\n    environment:\n      A: ${A}\n';
  const envFiles = [{ file: '/proj/.env', text: 'TAG=from-dotenv\nA=${TAG}-a\n' }];
  assert.equal(load(yaml, { envFiles }).project.services['web']?.image, 'app:from-dotenv');
  assert.equal(load(yaml, { envFiles, env: { TAG: 'from-env' } }).project.services['web']?.image, 'app:from-env');
  assert.equal(load(yaml, { envFiles, env: { TAG: 'from-env' } }).project.services['web']?.environment['A'], 'from-env-a');
});

test('all required variables are reported together', () => {
  const err = loadError('services:\n  web:\n    image: ${IMG:?}\n    user: ${USR?need a user}\n');
  assert.equal(err.code, 'CMESH_E_CONFIG_INTERPOLATION');
  assert.deepEqual(where(err), ['3:12 services.web.image', '4:11 services.web.user']);
  assert.match(err.issues[1]?.message ?? '', /USR.*need a user/);
  assert.match(err.issues[0]?.hint ?? '', /set IMG/);
});

test('interpolated numbers and booleans are cast where Compose casts', () => {
  const s = load('services:\n  web:\n    image: x\n    deploy:\n      replicas: ${N}\n    x-cmesh:\n      access_log: ${LOG}\n', { env: { N: '3', LOG: 'true' } });
  assert.equal(s.project.services['web']?.replicas, 3);
  assert.equal(s.project.services['web']?.mesh.accessLog, true);
});

test('a default may hold braces (compose-go TestValueWithCurlyBracesDefault / TestNoValueWithCurlyBracesDefault)', () => {
  const json = (n: string) => ({ JSON: '{"json":2}', Y: 'why' })[n];
  const sub = (s: string) => interpolate(s, json);
  assert.equal(sub('ok ${JSON:-{"json":1}}').value, 'ok {"json":2}');
  assert.equal(sub('ok ${JSON-{"json":1}}').value, 'ok {"json":2}');
  assert.equal(sub('ok ${MISSING:-{"json":1}}').value, 'ok {"json":1}');
  assert.equal(sub('ok ${MISSING-{"json":1}}').value, 'ok {"json":1}');
  assert.equal(sub('ok ${JSON:+x{y}z}').value, 'ok x{y}z');
  assert.equal(sub('${MISSING:-{"a":{"b":"${Y}"}}} and ${Y}').value, '{"a":{"b":"why"}} and why');
  assert.equal(sub('${MISSING:-$${}}').value, '${}');
  assert.equal(sub('${MISSING:-{unclosed}').problems[0]?.kind, 'syntax');
});

test('${COMPOSE_PROJECT_NAME} is the resolved project name: -p, then COMPOSE_PROJECT_NAME, then name:, then the folder', () => {
  const text = 'name: from-file\nservices:\n  web:\n    image: x\n    labels: {p: "${COMPOSE_PROJECT_NAME}"}\n';
  const label = (opts: Parameters<typeof load>[1], t = text) => load(t, opts, '/work/My_App/compose.yaml').project.services['web']?.labels['p'];
  assert.equal(label({}), 'from-file');
  assert.equal(label({ projectName: 'flag' }), 'flag');
  assert.equal(label({ env: { COMPOSE_PROJECT_NAME: 'env' } }), 'env');
  assert.equal(label({ envFiles: [{ file: '/work/My_App/.env', text: 'COMPOSE_PROJECT_NAME=dotenv\n' }] }), 'dotenv');
  assert.equal(label({}, text.replace('name: from-file', 'name: app-${STAGE:-dev}')), 'app-dev');
  assert.equal(label({}, text.replace('name: from-file\n', '')), 'my_app');
  assert.deepEqual(load(text, {}).warnings, []);
});
