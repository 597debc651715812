// Access-log entries: stable field order, optional fields only when they apply, client-abort over the proxy's code.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accessLogEntry, formatAccessLog, type LoggedExchange, routeLabel } from './access-log.ts';

const ex = (patch: Partial<LoggedExchange> = {}): LoggedExchange => ({
  startedAt: performance.now(),
  method: 'GET',
  url: '/a?b=1',
  headSent: true,
  status: 200,
  attempts: 1,
  aborted: false,
  bytesOut: 12,
  service: 'web',
  ...patch,
});

describe('access log entry', () => {
  it('keeps the documented field order, with upstream, route and target when they apply', () => {
    const e = accessLogEntry(ex({ service: 'api', attempts: 2 }), 'web', '10.0.0.1', 'api#2', undefined, '#0 /api');
    assert.deepEqual(Object.keys(e), ['time', 'service', 'clientIp', 'method', 'path', 'status', 'durationMs', 'upstream', 'attempts', 'bytesOut', 'route', 'target']);
    assert.equal(e.service, 'web');
    assert.equal(e.target, 'api');
    assert.equal(e.upstream, 'api#2');
    assert.equal(e.attempts, 2);
    assert.equal(formatAccessLog(e), JSON.stringify(e));
  });

  it('leaves out what did not happen; status is 0 when no head reached the client', () => {
    const e = accessLogEntry(ex({ headSent: false, status: 502 }), 'web', '::1', undefined, 'CMESH_NO_HEALTHY', undefined);
    assert.deepEqual(Object.keys(e), ['time', 'service', 'clientIp', 'method', 'path', 'status', 'durationMs', 'attempts', 'error', 'bytesOut']);
    assert.equal(e.status, 0);
    assert.equal(e.error, 'CMESH_NO_HEALTHY');
  });

  it('a client that went away is logged as client-abort whatever the proxy answered', () => {
    const e = accessLogEntry(ex({ aborted: true }), 'web', '::1', 'web#1', 'CMESH_UPSTREAM_TIMEOUT', undefined);
    assert.equal(e.error, 'client-abort');
    assert.ok(e.durationMs >= 0);
  });

  it('names a matched route by its index and match', () => {
    assert.equal(routeLabel({ index: 2, label: 'path_prefix=/admin/' }), '#2 path_prefix=/admin/');
    assert.equal(routeLabel(undefined), undefined);
  });
});
