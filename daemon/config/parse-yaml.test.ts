// Hostile and odd YAML: limits, aliases, merge keys, key hygiene, tags and numbers as keys.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Issues } from './issues.ts';
import { LIMITS } from './limits.ts';
import { toPlain } from './node.ts';
import { loadProjectFromSources } from './load.ts';
import { parseComposeYaml } from './parse-yaml.ts';
import { load, loadError, where } from './test-helpers.ts';

function parse(text: string) {
  const issues = new Issues();
  const docs = parseComposeYaml('/f.yaml', text, issues);
  return { node: docs?.[0], docs, issues };
}

test('documents over 4 MiB are refused before parsing', () => {
  const text = `services: {}\n#${'x'.repeat(LIMITS.maxBytes)}`;
  const t = Date.now();
  const err = loadError(text);
  assert.equal(err.code, 'CMESH_E_CONFIG_LIMIT');
  assert.ok(Date.now() - t < 500);
  assert.deepEqual(where(err), ['1:1']);
});

test('multi-byte text is measured in bytes', () => {
  const text = `services: {}\n#${'é'.repeat(LIMITS.maxBytes / 2 + 10)}`;
  assert.equal(loadError(text).code, 'CMESH_E_CONFIG_LIMIT');
});

test('very deep flow nesting fails fast instead of overflowing the stack', () => {
  for (const text of ['['.repeat(500_000), `a: ${'{a: '.repeat(100_000)}`]) {
    const t = Date.now();
    const err = loadError(text);
    assert.equal(err.code, 'CMESH_E_CONFIG_LIMIT');
    assert.ok(Date.now() - t < 1000, `took ${Date.now() - t}ms`);
  }
});

test('very deep block nesting is refused', () => {
  const compact = `${'- '.repeat(5000)}x\n`;
  assert.equal(loadError(compact).code, 'CMESH_E_CONFIG_LIMIT');
  const indented = Array.from({ length: 100 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n');
  const err = loadError(indented);
  assert.equal(err.code, 'CMESH_E_CONFIG_LIMIT');
  assert.equal(err.issues[0]?.position?.line, 65);
});

test('64 levels are fine', () => {
  const { issues } = parse(`a: ${'['.repeat(63)}${']'.repeat(63)}`);
  assert.equal(issues.errors.length, 0);
});

test('billion laughs is stopped by the alias limit', () => {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
  const t = Date.now();
  const err = loadError(lines.join('\n'));
  assert.equal(err.code, 'CMESH_E_CONFIG_LIMIT');
  assert.ok(Date.now() - t < 200);
});

test('normal alias use is expanded', () => {
  const { node, issues } = parse('base: &b {image: x}\nweb: *b\napi: *b\n');
  assert.equal(issues.errors.length, 0);
  assert.deepEqual(toPlain(node!), { base: { image: 'x' }, web: { image: 'x' }, api: { image: 'x' } });
});

test('merge keys: explicit keys win, earlier sources win, list form', () => {
  const yaml = 'x: &x {a: 1, b: 1}\ny: &y {b: 2, c: 2}\nz:\n  <<: [*x, *y]\n  a: 0\n';
  assert.deepEqual(toPlain(parse(yaml).node!), { x: { a: 1, b: 1 }, y: { b: 2, c: 2 }, z: { a: 0, b: 1, c: 2 } });
});

test('merge key with a non-mapping is an error', () => {
  const { issues } = parse('x: &x [1]\ny:\n  <<: *x\n');
  assert.match(issues.errors[0]?.message ?? '', /merge key/);
});

test('recursive alias is refused', () => {
  const { issues } = parse('a: &a [1, *a]\n');
  assert.ok(issues.errors.length > 0);
});

test('numbers and booleans as keys become strings; null keys are refused', () => {
  assert.deepEqual(toPlain(parse('1: a\n1.50: b\ntrue: c\n0x1F: d\n').node!), { '1': 'a', '1.50': 'b', true: 'c', '0x1F': 'd' });
  assert.match(parse('? \n: x\n').issues.errors[0]?.message ?? '', /empty key/);
});

test('__proto__, constructor and prototype keys are refused anywhere; Object.prototype stays clean', () => {
  for (const key of ['__proto__', 'constructor', 'prototype']) {
    const err = loadError(`services:\n  web:\n    image: x\n    labels:\n      ${key}: polluted\n`);
    assert.deepEqual(where(err), [`5:7 services.web.labels.${key}`]);
  }
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  const err = loadError('services:\n  web:\n    image: x\n    environment: ["__proto__=1"]\n');
  assert.equal(err.issues[0]?.path, 'services.web.environment[0]');
});

test('unknown tags warn; !reset and !override do not', () => {
  const { issues } = parse('a: !custom 1\nb: !reset 2\nc: !override {x: 1}\n');
  assert.equal(issues.warnings.length, 1);
  assert.match(issues.warnings[0]?.message ?? '', /!custom/);
});

test('YAML 1.2 core schema: yes/no/on/off stay strings, ~ is null', () => {
  assert.deepEqual(toPlain(parse('a: yes\nb: no\nc: on\nd: ~\ne: 010\n').node!), { a: 'yes', b: 'no', c: 'on', d: null, e: 10 });
});

test('syntax errors carry line and column', () => {
  const err = loadError('services:\n  web:\n    image: "unterminated\n');
  assert.equal(err.code, 'CMESH_E_CONFIG_YAML');
  assert.deepEqual([err.issues[0]?.position?.line, err.issues[0]?.position?.col], [3, 12]);
  const tab = loadError('services:\n\tweb:\n');
  assert.equal(tab.code, 'CMESH_E_CONFIG_YAML');
  assert.equal(tab.issues[0]?.position?.line, 2);
});

test('a multi-document file merges its documents in order, as Docker Compose v2 does', () => {
  const { project } = load('services:\n  web: {image: a, ports: ["80:80"]}\n---\nservices:\n  web: {image: b}\n  db: {image: c}\n---\n');
  assert.equal(project.services['web']?.image, 'b');
  assert.equal(project.services['web']?.ports[0]?.published, 80);
  assert.ok(project.services['db']);
});

test('a YAML error in any document is reported at its line; anchors do not cross documents', () => {
  assert.deepEqual(where(loadError('services: {}\n---\nservices: [\n')), ['4:1']);
  assert.equal(loadError('a: &x {image: y}\n---\nservices:\n  web: *x\n').code, 'CMESH_E_CONFIG_YAML');
});

test('an empty file or document adds nothing; only an all-empty load is refused', () => {
  const files = [
    { file: '/p/compose.yaml', text: 'services:\n  web: {image: x}\n' },
    { file: '/p/compose.override.yaml', text: '# nothing yet\n' },
  ];
  assert.equal(loadProjectFromSources(files).project.services['web']?.image, 'x');
  assert.equal(load('---\nservices:\n  web: {image: x}\n---\n').project.services['web']?.image, 'x');
  const err = loadError([{ file: '/p/a.yaml', text: '' }, { file: '/p/b.yaml', text: '---\n~\n' }]);
  assert.match(err.message, /empty compose file/);
  assert.deepEqual(where(err), ['1:1']);
  assert.equal(err.issues[0]?.position?.file, '/p/a.yaml');
});

test('a comment-only document start is fine', () => {
  const { project } = load('---\n# a comment\nservices:\n  web:\n    image: x\n');
  assert.ok(project.services['web']);
});
