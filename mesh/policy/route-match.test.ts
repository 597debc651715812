// Route predicates: each condition kind alone, all together, and the header / query lookups they use.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileMatch, headerValue, queryValue, type RequestView, splitTarget } from './route-match.ts';

function req(method: string, target: string, headers: string[] = []): RequestView {
  return { method, ...splitTarget(target), rawHeaders: headers };
}

test('empty match matches everything', () => {
  assert.equal(compileMatch({})(req('POST', '/anything?x=1')), true);
});

test('path, prefix and regex', () => {
  assert.equal(compileMatch({ path: '/a' })(req('GET', '/a?q')), true);
  assert.equal(compileMatch({ path: '/a' })(req('GET', '/a/')), false);
  assert.equal(compileMatch({ pathPrefix: '/admin/' })(req('GET', '/admin/x')), true);
  assert.equal(compileMatch({ pathPrefix: '/admin/' })(req('GET', '/admin')), false);
  assert.equal(compileMatch({ pathRegex: '^/v[0-9]+/' })(req('GET', '/v2/x')), true);
  assert.equal(compileMatch({ pathRegex: '^/v[0-9]+/' })(req('GET', '/vx/x')), false);
});

test('methods: any of the list', () => {
  const m = compileMatch({ methods: ['GET', 'HEAD'] });
  assert.equal(m(req('HEAD', '/')), true);
  assert.equal(m(req('POST', '/')), false);
});

test('headers: exact, regex, present; names case-insensitive', () => {
  const h = ['X-Canary', '1', 'User-Agent', 'curl/8.1'];
  assert.equal(compileMatch({ headers: { 'x-canary': { exact: '1' } } })(req('GET', '/', h)), true);
  assert.equal(compileMatch({ headers: { 'x-canary': { exact: '2' } } })(req('GET', '/', h)), false);
  assert.equal(compileMatch({ headers: { 'user-agent': { regex: '^curl/' } } })(req('GET', '/', h)), true);
  assert.equal(compileMatch({ headers: { 'x-other': { present: true } } })(req('GET', '/', h)), false);
  assert.equal(compileMatch({ headers: { 'x-other': { regex: '.*' } } })(req('GET', '/', h)), false, 'a regex never matches an absent header');
});

test('query: exact (decoded), regex, present (also for ?flag)', () => {
  assert.equal(compileMatch({ query: { v: { exact: 'a b' } } })(req('GET', '/?x=1&v=a+b')), true);
  assert.equal(compileMatch({ query: { v: { regex: '^[0-9]+$' } } })(req('GET', '/?v=12')), true);
  assert.equal(compileMatch({ query: { v: { regex: '^[0-9]+$' } } })(req('GET', '/?v=1x')), false);
  assert.equal(compileMatch({ query: { debug: { present: true } } })(req('GET', '/?debug')), true);
  assert.equal(compileMatch({ query: { debug: { present: true } } })(req('GET', '/')), false);
});

test('every condition must hold', () => {
  const m = compileMatch({ pathPrefix: '/admin/', methods: ['GET'], headers: { 'x-canary': { exact: '1' } } });
  assert.equal(m(req('GET', '/admin/x', ['x-canary', '1'])), true);
  assert.equal(m(req('GET', '/admin/x')), false);
  assert.equal(m(req('POST', '/admin/x', ['x-canary', '1'])), false);
  assert.equal(m(req('GET', '/public', ['x-canary', '1'])), false);
});

test('lookups: repeated headers join, malformed percent-encoding is kept', () => {
  assert.equal(headerValue(['A', '1', 'a', '2'], 'a'), '1, 2');
  assert.equal(queryValue('k=%zz', 'k'), '%zz');
  assert.equal(queryValue('', 'k'), undefined);
});
