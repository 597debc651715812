// Compose dotenv syntax: comments, export, quotes, escapes, multi-line values, interpolation and errors.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are compose interpolation syntax under test.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEnvFile } from './env-file.ts';
import { loadError } from './test-helpers.ts';

const parse = (text: string, env: Record<string, string> = {}) => parseEnvFile('/p/.env', text, (n) => env[n]);

test('basic KEY=VAL, comments, blank lines, export', () => {
  const r = parse('# comment\n\nA=1\nexport B=two\n  C = spaced  \nD=\n');
  assert.deepEqual(Object.fromEntries(r.values), { A: '1', B: 'two', C: 'spaced', D: '' });
  assert.equal(r.problems.length, 0);
});

test('inline comments only after whitespace in unquoted values', () => {
  const r = parse('A=value # comment\nB=a#b\nC="quoted # not a comment"\n');
  assert.deepEqual(Object.fromEntries(r.values), { A: 'value', B: 'a#b', C: 'quoted # not a comment' });
});

test('single quotes are literal; double quotes process escapes and interpolation', () => {
  const r = parse("X=x\nA='$X \\n raw'\nB=\"$X\\nline\\t\\\"q\\\"\"\nC=\"\\$X\"\n");
  assert.equal(r.values.get('A'), '$X \\n raw');
  assert.equal(r.values.get('B'), 'x\nline\t"q"');
  assert.equal(r.values.get('C'), '$X');
});

test('multi-line double-quoted values keep line numbering right', () => {
  const r = parse('A="line1\nline2"\nB=2\n1BAD=3\n');
  assert.equal(r.values.get('A'), 'line1\nline2');
  assert.equal(r.values.get('B'), '2');
  assert.deepEqual(r.problems.map((p) => [p.position.line, p.position.col]), [[4, 1]]);
});

test('interpolation uses earlier values and the environment, environment first', () => {
  const r = parse('HOST=db\nURL=postgres://${HOST}:${PORT:-5432}/app\nUSER_HOME=${HOME}\n', { HOME: '/home/me' });
  assert.equal(r.values.get('URL'), 'postgres://db:5432/app');
  assert.equal(r.values.get('USER_HOME'), '/home/me');
});

test('a bare KEY takes its value from the environment, or is skipped', () => {
  const r = parse('FROM_ENV\nMISSING\n', { FROM_ENV: 'yes' });
  assert.deepEqual(Object.fromEntries(r.values), { FROM_ENV: 'yes' });
});

test('CRLF line endings are accepted', () => {
  assert.deepEqual(Object.fromEntries(parse('A=1\r\nB=2\r\n').values), { A: '1', B: '2' });
});

test('unterminated quotes and bad names are errors with positions', () => {
  const r = parse('OK=1\nBAD="never closed\n');
  assert.match(r.problems[0]?.message ?? '', /unterminated double-quoted/);
  assert.deepEqual([r.problems[0]?.position.line, r.problems[0]?.position.col], [2, 1]);
  assert.equal(parse('has space=1\n').problems.length, 1);
});

test('env file problems surface as CMESH_E_ENV_FILE from the loader', () => {
  const err = loadError('services:\n  web:\n    image: x\n', { envFiles: [{ file: '/proj/.env', text: 'A=1\n  B C=2\n' }] });
  assert.equal(err.code, 'CMESH_E_ENV_FILE');
  assert.deepEqual([err.issues[0]?.position?.file, err.issues[0]?.position?.line, err.issues[0]?.position?.col], ['/proj/.env', 2, 3]);
});
