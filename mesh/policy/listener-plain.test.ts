// A listener whose service has no traffic policy decides nothing per request (the plain path, worked out once per
// change of the project's policy state): faults set at run time, a rate limit or a breaker from a new `up` must
// still take effect on the very next request.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testMesh, TestPool } from '../proxy/testing.ts';
import { ListenerPolicy } from './listener-policy.ts';
import { ProjectPolicyState } from './project-state.ts';

describe('a listener without a traffic policy', () => {
  const state = new ProjectPolicyState();
  state.update({ web: {} });
  const pool = new TestPool('web', []);
  const policy = new ListenerPolicy({ service: 'web', listenerPort: 80, state, resolve: (t) => ({ service: t.service, pool, mesh: testMesh() }) }, undefined);
  const decide = () => policy.decide('GET', '/', ['host', 'a'], '10.0.0.1');

  it('decides nothing while the service stays plain', () => {
    for (let i = 0; i < 3; i++) assert.equal(decide(), undefined);
  });

  it('a run-time fault applies to the next request, and clearing it makes the service plain again', () => {
    assert.equal(decide(), undefined);
    state.setRuntimeFaults('web', { abort: { percent: 100, status: 503 } });
    const d = decide();
    assert.equal(d?.kind, 'answer');
    assert.equal(d?.kind === 'answer' ? d.status : 0, 503);
    state.setRuntimeFaults('web', undefined);
    assert.equal(decide(), undefined);
  });

  it('a rate limit from a new up applies to the next request', () => {
    assert.equal(decide(), undefined);
    state.update({ web: { policy: { rateLimit: { requestsPerSecond: 0.01, burst: 1, key: 'ip' } } } });
    assert.equal(decide()?.kind, 'forward');
    const d = decide();
    assert.equal(d?.kind === 'answer' ? d.status : 0, 429);
    state.update({ web: {} });
    assert.equal(decide(), undefined);
  });

  it('a breaker with limits makes requests counted (forwarded with their breaker)', () => {
    state.update({ web: { policy: { circuitBreaker: { maxRequests: 10 } } } });
    assert.equal(decide()?.kind, 'forward');
    state.update({ web: {} });
    assert.equal(decide(), undefined);
  });
});
