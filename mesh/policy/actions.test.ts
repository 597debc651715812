// Route actions: strip_prefix by whole segments, rewrite after strip, header set/remove, redirect answers.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePathRewrite, editHeaders, redirectResponse, stripPrefix } from './actions.ts';

test('strip_prefix removes a whole leading segment only', () => {
  assert.equal(stripPrefix('/admin/users', '/admin'), '/users');
  assert.equal(stripPrefix('/admin', '/admin'), '/');
  assert.equal(stripPrefix('/admin/', '/admin'), '/');
  assert.equal(stripPrefix('/administrator', '/admin'), '/administrator');
  assert.equal(stripPrefix('/admin/x', '/admin/'), '/x');
  assert.equal(stripPrefix('/other', '/admin'), '/other');
  assert.equal(stripPrefix('/x', '/'), '/x');
});

test('rewrite runs after strip_prefix; results stay in origin form', () => {
  const rw = compilePathRewrite({ stripPrefix: '/svc', rewrite: { pathRegex: '^/v1/(.*)$', replace: '/api/$1' } });
  assert.ok(rw);
  assert.equal(rw('/svc/v1/users'), '/api/users');
  assert.equal(rw('/svc/v2/users'), '/v2/users');
  const bare = compilePathRewrite({ rewrite: { pathRegex: '^/old', replace: '' } });
  assert.equal(bare?.('/old'), '/');
  assert.equal(compilePathRewrite({}), undefined);
});

test('header edits: set replaces every line of the name, remove drops case-insensitively, order kept', () => {
  const raw = ['Host', 'a', 'X-Debug', '1', 'x-env', 'dev', 'X-Env', 'qa', 'Accept', '*/*'];
  assert.deepEqual(editHeaders(raw, { set: { 'x-env': 'prod' }, remove: ['x-debug'] }), ['Host', 'a', 'Accept', '*/*', 'x-env', 'prod']);
  assert.deepEqual(editHeaders(raw, { set: {}, remove: [] }), raw);
  assert.deepEqual(editHeaders(['Content-Length', '3', 'Host', 'h'], { set: { host: 'evil' }, remove: ['content-length'] }), ['Content-Length', '3', 'Host', 'h'], 'framing and Host are not editable');
});

test('redirect: status line, Location with $path, empty body', () => {
  assert.equal(
    redirectResponse({ to: 'https://new.example$path', status: 301 }, '/a?b=1', false),
    'HTTP/1.1 301 Moved Permanently\r\nLocation: https://new.example/a?b=1\r\nContent-Length: 0\r\nX-Cmesh-Route: redirect\r\n\r\n',
  );
  assert.match(redirectResponse({ to: '/x', status: 307 }, '/', true), /^HTTP\/1\.1 307 Temporary Redirect\r\n[\s\S]*Connection: close\r\n\r\n$/);
});
