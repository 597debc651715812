// East-west readiness: a meshed name counts as answered only once its own gateway reports listeners for it, and the
// wait for that wakes on a report instead of polling.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CmeshError } from './api/errors.ts';
import { GATEWAY_PROTOCOL_VERSION, type GatewayStats } from './api/gateway-control.ts';
import { mergeGatewayStats } from './gateway-hub.ts';
import { answeredByName, NameReadiness } from './gateway-readiness.ts';
import { Nap } from './reconcile/nap.ts';

const report = (over: Partial<GatewayStats> = {}): GatewayStats => ({
  type: 'stats',
  version: GATEWAY_PROTOCOL_VERSION,
  project: 'p',
  time: 1,
  services: [],
  warnings: [],
  startedAt: 1,
  requests: [],
  ...over,
});

test('answeredByName: not placed is answered by Docker DNS; otherwise its own gateway must list it as serving', () => {
  assert.equal(answeredByName([], undefined, 'job'), true);
  assert.equal(answeredByName([], 0, 'api'), false, 'no report from its gateway yet');
  assert.equal(answeredByName([report({ serving: [] })], 0, 'api'), false, 'connected, listeners not bound yet');
  assert.equal(answeredByName([report({ serving: ['api'] })], 0, 'api'), true);
  // Another gateway serving the name does not count: callers resolve the name to the gateway it is placed on.
  assert.equal(answeredByName([report({ serving: ['api'] })], 1, 'api'), false);
  assert.equal(answeredByName([report({ serving: ['web'] }), report({ gateway: 1, serving: ['api'] })], 1, 'api'), true);
  // A gateway older than the field: a pool for the service stands in for its listeners.
  const row = { service: 'api', replicas: [] } as unknown as GatewayStats['services'][number];
  assert.equal(answeredByName([report({ services: [row] })], 0, 'api'), true);
  assert.equal(answeredByName([report()], 0, 'api'), false);
});

test('merged reports list what every gateway serves, and nothing when one of them does not say', () => {
  assert.deepEqual(mergeGatewayStats([report({ serving: ['web'] }), report({ gateway: 1, serving: ['db'] })])?.serving, ['web', 'db']);
  assert.equal(mergeGatewayStats([report({ serving: ['web'] }), report({ gateway: 1 })])?.serving, undefined);
});

test('until: a report wakes the wait at once (not the 500 ms poll); the end is a CMESH_E_TIMEOUT with the hint', async () => {
  const readiness = new NameReadiness();
  let serving = false;
  const started = Date.now();
  setTimeout(() => {
    serving = true;
    readiness.notify();
  }, 30);
  await readiness.until(() => (serving ? [] : ['api']), 'the gateway', 'see its log', { timeoutMs: 5000 });
  const took = Date.now() - started;
  assert.ok(took < 300, `took ${took} ms`);

  const warnings = () => ['cannot listen on port 3000: EADDRINUSE'];
  await assert.rejects(readiness.until(() => ['api'], 'the gateway of p', 'docker logs p-cmesh-gateway', { timeoutMs: 120, warnings }), (e: CmeshError) => {
    assert.equal(e.code, 'CMESH_E_TIMEOUT');
    assert.match(e.message, /the gateway of p: no listener answers for api yet \(the gateway says: cannot listen on port 3000: EADDRINUSE\)/);
    assert.equal(e.hint, 'docker logs p-cmesh-gateway');
    return true;
  });
});

test('until: an abort ends the wait with the abort reason', async () => {
  const readiness = new NameReadiness();
  const abort = new AbortController();
  setTimeout(() => abort.abort(new Error('stopped')), 20);
  await assert.rejects(readiness.until(() => ['api'], 'the gateway', 'h', { timeoutMs: 5000, signal: abort.signal }), /stopped/);
});

test("a report wakes as fresh (it is in the hub's state already): a waiter's nap skips the engine settle", async () => {
  const readiness = new NameReadiness();
  const wakes: (boolean | undefined)[] = [];
  const off = readiness.wake((fresh) => wakes.push(fresh));
  readiness.notify();
  off();
  assert.deepEqual(wakes, [true]);
  // A settle far longer than the report's delay: slept only if the wake were not marked fresh.
  const nap = new Nap(readiness.wake, 2000);
  try {
    nap.look();
    const started = Date.now();
    setTimeout(() => readiness.notify(), 20);
    await nap.sleep(10_000);
    const took = Date.now() - started;
    assert.ok(took < 1000, `took ${took} ms: the 2 s settle was slept`);
  } finally {
    nap.dispose();
  }
});
