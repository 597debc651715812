// The gateway's request counts: one row per service × replica × method × status class, counted in place.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestCounts } from './request-counts.ts';

test('rows per service, replica, method and class, in first-counted order; unknown methods are OTHER', () => {
  const c = new RequestCounts();
  for (let i = 0; i < 3; i++) c.count('web', 'web#1', 'GET', 200);
  c.count('web', 'web#2', 'GET', 204);
  c.count('web', 'web#1', 'GET', 503);
  c.count('web', 'web#1', 'PROPFIND', 207);
  c.count('web', 'web#1', 'MKCOL', 201);
  c.count('api', 'web#1', 'GET', 200);
  assert.deepEqual(c.totals(), [
    { service: 'web', upstream: 'web#1', method: 'GET', codeClass: '2xx', count: 3 },
    { service: 'web', upstream: 'web#2', method: 'GET', codeClass: '2xx', count: 1 },
    { service: 'web', upstream: 'web#1', method: 'GET', codeClass: '5xx', count: 1 },
    { service: 'web', upstream: 'web#1', method: 'OTHER', codeClass: '2xx', count: 2 },
    { service: 'api', upstream: 'web#1', method: 'GET', codeClass: '2xx', count: 1 },
  ]);
});

test('no replica reached: no upstream field; no status sent or an impossible one: class none', () => {
  const c = new RequestCounts();
  c.count('web', undefined, 'POST', 503);
  c.count('web', undefined, 'POST', 0);
  c.count('web', 'web#1', 'DELETE', 600);
  c.count('web', 'web#1', 'DELETE', 99);
  assert.deepEqual(c.totals(), [
    { service: 'web', method: 'POST', codeClass: '5xx', count: 1 },
    { service: 'web', method: 'POST', codeClass: 'none', count: 1 },
    { service: 'web', upstream: 'web#1', method: 'DELETE', codeClass: 'none', count: 2 },
  ]);
});

test('totals are cumulative across calls (the daemon diffs them into counters)', () => {
  const c = new RequestCounts();
  c.count('web', 'web#1', 'HEAD', 304);
  assert.equal(c.totals()[0]!.count, 1);
  c.count('web', 'web#1', 'HEAD', 301);
  assert.deepEqual(c.totals(), [{ service: 'web', upstream: 'web#1', method: 'HEAD', codeClass: '3xx', count: 2 }]);
});
