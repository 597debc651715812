// The service table joins each target service's circuit breaker by project and service.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BreakerView } from './api/policy-control.ts';
import type { ServiceTableRow } from './api/service-table.ts';
import { withBreakers } from './service-breakers.ts';

function row(project: string, service: string): ServiceTableRow {
  return { project, service, strategy: 'p2c', protocol: 'http', desired: 1, ready: 1, total: 1, draining: 0, panic: false, publishedPorts: [], replicas: [] };
}

const api: BreakerView = {
  service: 'api',
  limits: { maxConnections: 512, maxPending: 64, maxRequests: 256 },
  requests: 3,
  pending: 1,
  connections: 2,
  overflow: { requests: 4, pending: 0, connections: 1 },
};

test('a service with a breaker gets its limits, counts and overflow; others and other projects are untouched', () => {
  const rows = [row('a', 'api'), row('a', 'web'), row('b', 'api')];
  const out = withBreakers(rows, [
    { project: 'a', breakers: [api] },
    { project: 'b', breakers: [] },
  ]);
  assert.deepEqual(out[0], {
    ...row('a', 'api'),
    breaker: { limits: { maxConnections: 512, maxPending: 64, maxRequests: 256 }, requests: 3, pending: 1, connections: 2, overflow: { requests: 4, pending: 0, connections: 1 } },
  });
  assert.deepEqual(out[1], row('a', 'web'));
  assert.deepEqual(out[2], row('b', 'api'));
  assert.equal('breaker' in out[2]!, false);
  // The rows passed in are not changed (the registry's snapshot may be shared).
  assert.equal('breaker' in rows[0]!, false);
});

test('no breakers anywhere: the same rows come back', () => {
  const rows = [row('a', 'api')];
  assert.equal(withBreakers(rows, [{ project: 'a', breakers: [] }]), rows);
});
