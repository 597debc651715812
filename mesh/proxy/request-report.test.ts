import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AccessLogEntry, RequestCounter } from './access-log.ts';
import { reportRequest } from './request-report.ts';

/** A finished exchange as the report reads it: sent to `canary` by a route, answered 503 by canary#2 after 0.5 ms. */
const exchange = (over: Partial<{ aborted: boolean; headSent: boolean }> = {}) => ({
  startedAt: performance.now() - 0.5,
  method: 'GET',
  url: '/admin/users?x=1',
  headSent: true,
  status: 503,
  attempts: 2,
  aborted: false,
  bytesOut: 42,
  service: 'canary',
  ...over,
});
const client = { clientIp: '10.0.0.9', clientCert: undefined };
const route = { index: 1, label: 'path /admin' };

function sinks(accessLog: boolean, counter: boolean) {
  const counted: Parameters<RequestCounter>[] = [];
  const entries: AccessLogEntry[] = [];
  const lines: string[] = [];
  const ctx = {
    service: 'front',
    countRequest: counter ? (...a: Parameters<RequestCounter>) => void counted.push(a) : undefined,
    onRequest: (e: AccessLogEntry) => void entries.push(e),
    onAccessLog: accessLog ? (line: string) => void lines.push(line) : undefined,
  };
  return { ctx, counted, entries, lines };
}

test('with a counter and no access log: counted in plain values, no entry built or handed out', () => {
  const s = sinks(false, true);
  reportRequest(s.ctx, exchange(), client, 'canary#2', 'upstream-5xx', route);
  assert.equal(s.entries.length, 0);
  assert.equal(s.counted.length, 1);
  const [service, upstream, method, status, durationMs, label, target, error] = s.counted[0]!;
  assert.deepEqual([service, upstream, method, status, label, target, error], ['front', 'canary#2', 'GET', 503, '#1 path /admin', 'canary', 'upstream-5xx']);
  assert.ok(durationMs >= 0.5 && durationMs < 1000, String(durationMs));
});

test("the counter gets what onRequest's entry says, for answered, aborted and unanswered requests", () => {
  for (const over of [{}, { aborted: true }, { aborted: true, headSent: false }]) {
    const viaCounter = sinks(false, true);
    const viaEntry = sinks(false, false);
    reportRequest(viaCounter.ctx, exchange(over), client, 'canary#2', 'upstream-5xx', route);
    reportRequest(viaEntry.ctx, exchange(over), client, 'canary#2', 'upstream-5xx', route);
    const e = viaEntry.entries[0]!;
    const [service, upstream, method, status, , label, target, error] = viaCounter.counted[0]!;
    assert.deepEqual([service, upstream, method, status, label, target, error], [e.service, e.upstream, e.method, e.status, e.route, e.target, e.error], JSON.stringify(over));
  }
  const unanswered = sinks(false, true);
  reportRequest(unanswered.ctx, exchange({ headSent: false }), client, undefined, undefined, undefined);
  assert.deepEqual(unanswered.counted[0]!.filter((_, i) => i !== 4), ['front', undefined, 'GET', 0, undefined, 'canary', undefined]);
});

test('with the access log on: counted once and logged as one JSON line; onRequest is not asked as well', () => {
  const s = sinks(true, true);
  reportRequest(s.ctx, exchange(), { clientIp: '10.0.0.9', clientCert: 'CN=ci' }, 'canary#2', 'upstream-5xx', route);
  assert.equal(s.counted.length, 1);
  assert.equal(s.entries.length, 0);
  const logged = JSON.parse(s.lines[0]!) as AccessLogEntry;
  assert.equal(logged.clientIp, '10.0.0.9');
  assert.equal(logged.clientCert, 'CN=ci');
  assert.equal(logged.path, '/admin/users?x=1');
  assert.equal(logged.route, '#1 path /admin');
  assert.equal(logged.target, 'canary');
});

test('nothing listens: nothing is built', () => {
  const ctx = { service: 'front', countRequest: undefined, onRequest: undefined, onAccessLog: undefined };
  assert.doesNotThrow(() => reportRequest(ctx, exchange(), client, 'canary#2', undefined, undefined));
});
