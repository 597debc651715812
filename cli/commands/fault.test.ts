// `cmesh fault` flags → request body, and `cmesh routes` table lines.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeFaults, faultRequest } from './fault.ts';
import { routeLines } from './routes.ts';

test('fault flags become the request body', () => {
  assert.deepEqual(faultRequest('web', { delay: '200ms', percent: '10' }), { service: 'web', faults: { delay: { percent: 10, durationMs: 200 } } });
  assert.deepEqual(faultRequest('web', { abort: '503', percent: '5' }), { service: 'web', faults: { abort: { percent: 5, status: 503 } } });
  assert.deepEqual(faultRequest('web', { abort: '500' }), { service: 'web', faults: { abort: { percent: 100, status: 500 } } });
  assert.deepEqual(faultRequest('web', { clear: true }), { service: 'web' });
});

test('meaningless fault flags are usage errors', () => {
  for (const o of [{}, { clear: true, abort: '503' }, { abort: '99' }, { abort: '5xx' }, { delay: 'soon' }, { delay: '1s', percent: '150' }, { delay: '1s', percent: '-1' }]) {
    assert.throws(() => faultRequest('web', o), { code: 'CMESH_E_USAGE' }, JSON.stringify(o));
  }
});

test('describeFaults and route lines', () => {
  assert.equal(describeFaults({ delay: { percent: 10, durationMs: 200 }, abort: { percent: 5, status: 503 } }), 'delay 200ms on 10%, abort 503 on 5%');
  assert.equal(describeFaults(undefined), 'none');
  const lines = routeLines({
    ports: [
      { service: 'front', host: '127.0.0.1', port: 8080, routes: [
        { index: 0, match: 'path_prefix=/a/', to: [{ target: 'a', weight: 1, requests: 3 }], requests: 3, rateLimited: 0 },
        { index: 1, match: '*', to: [{ target: 'front', weight: 1, requests: 1 }], requests: 1, rateLimited: 0 },
      ] },
      { service: 'api', host: '::1', port: 9000, routes: [] },
    ],
    faults: [],
    breakers: [],
    eastWest: { ports: [{ service: 'front', host: 'east-west', port: 3000, routes: [{ index: 0, match: '*', to: [], requests: 2, rateLimited: 1 }] }], breakers: [], reportedAt: 1 },
  });
  assert.deepEqual(lines.map((l) => [l.port, l.route?.index]), [['front 127.0.0.1:8080', 0], ['', 1], ['api [::1]:9000', undefined], ['front east-west:3000', 0]]);
});
