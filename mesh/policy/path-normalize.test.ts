// Route paths are normalized as Envoy and Traefik do: unreserved escapes decoded, dot segments removed, %2F kept.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizePath } from './path-normalize.ts';

test('unreserved escapes are decoded; other escapes kept with upper-case hex; %2F is not a separator', () => {
  assert.equal(normalizePath('/%61dmin/'), '/admin/');
  assert.equal(normalizePath('/%7Euser/%2d%2E_'), '/~user/-._');
  assert.equal(normalizePath('/a%20b/%c3%a9'), '/a%20b/%C3%A9');
  assert.equal(normalizePath('/admin%2Fusers'), '/admin%2Fusers');
  assert.equal(normalizePath('/admin%2fusers'), '/admin%2Fusers');
  // A stray or short `%` stays as it is.
  assert.equal(normalizePath('/100%/x%4'), '/100%/x%4');
  assert.equal(normalizePath('/%%61'), '/%a');
});

test('dot segments are removed, escaped ones too; `..` never climbs above the root', () => {
  assert.equal(normalizePath('/public/../admin/x'), '/admin/x');
  assert.equal(normalizePath('/public/%2e%2E/admin/'), '/admin/');
  assert.equal(normalizePath('/./a/./b'), '/a/b');
  assert.equal(normalizePath('/../../admin'), '/admin');
  assert.equal(normalizePath('/a/b/..'), '/a/');
  assert.equal(normalizePath('/a/b/.'), '/a/b/');
  assert.equal(normalizePath('/a/..'), '/');
  // Not dot segments: dots inside a name, and `..` after an encoded slash (one segment `a%2F..`).
  assert.equal(normalizePath('/a.b/..c/.d'), '/a.b/..c/.d');
  assert.equal(normalizePath('/a%2F../b'), '/a%2F../b');
});

test('a path with nothing to normalize is returned as is', () => {
  const p = '/api/v1/users';
  assert.equal(normalizePath(p), p);
  assert.equal(normalizePath('/'), '/');
});
