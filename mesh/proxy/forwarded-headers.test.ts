// Header rewriting rules in isolation: hop-by-hop stripping, X-Forwarded-* trust, hash keys and request targets.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TrustedProxies, clientResponseHeaders, normalizeIp, upstreamRequestHeaders } from './forwarded-headers.ts';
import { compileHashKey, cookieValue } from './hash-key.ts';
import { parseTarget } from './request-target.ts';

const info = { clientIp: '10.0.0.9', trusted: false, proto: 'http' as const };

describe('forwarded headers', { timeout: 30_000 }, () => {
  test('hop-by-hop and Connection-named fields are removed, the rest kept in order', () => {
    const out = upstreamRequestHeaders(
      ['Host', 'a', 'Connection', 'close, X-Hop', 'X-Hop', '1', 'Keep-Alive', '5', 'TE', 'trailers', 'Trailer', 'x', 'Upgrade', 'websocket', 'Expect', '100-continue', 'X-A', '1', 'x-a', '2', 'Proxy-Authorization', 'Basic x'],
      info,
    );
    assert.deepEqual(out, ['Host', 'a', 'X-A', '1', 'x-a', '2', 'Proxy-Authorization', 'Basic x', 'x-forwarded-for', '10.0.0.9', 'x-forwarded-proto', 'http', 'x-forwarded-host', 'a']);
  });

  test('upgrades keep Upgrade and say Connection: upgrade', () => {
    const out = upstreamRequestHeaders(['Host', 'a', 'Connection', 'Upgrade', 'Upgrade', 'websocket'], { ...info, upgrade: true, via: 'cmesh' });
    assert.deepEqual(out.slice(-6), ['via', '1.1 cmesh', 'connection', 'upgrade', 'upgrade', 'websocket']);
  });

  test('trusted peers extend X-Forwarded-For (several lines joined); untrusted ones are replaced', () => {
    const raw = ['Host', 'a', 'X-Forwarded-For', '1.1.1.1', 'X-Forwarded-For', '2.2.2.2', 'X-Real-IP', '1.1.1.1'];
    const trusted = upstreamRequestHeaders(raw, { ...info, trusted: true });
    assert.deepEqual(trusted, ['Host', 'a', 'X-Real-IP', '1.1.1.1', 'x-forwarded-for', '1.1.1.1, 2.2.2.2, 10.0.0.9', 'x-forwarded-proto', 'http', 'x-forwarded-host', 'a']);
    const untrusted = upstreamRequestHeaders(raw, info);
    assert.deepEqual(untrusted, ['Host', 'a', 'x-forwarded-for', '10.0.0.9', 'x-forwarded-proto', 'http', 'x-forwarded-host', 'a']);
  });

  test('response headers: duplicates and case kept, hop-by-hop gone, copy only when needed', () => {
    const raw = ['Set-Cookie', 'a', 'set-cookie', 'b', 'Connection', 'keep-alive, X-Hop', 'X-Hop', 'h', 'Transfer-Encoding', 'chunked'].map((s) => Buffer.from(s));
    assert.deepEqual(clientResponseHeaders(raw), ['Set-Cookie', 'a', 'set-cookie', 'b']);
    const clean = ['Content-Length', '1'].map((s) => Buffer.from(s));
    assert.deepEqual(clientResponseHeaders(clean), ['Content-Length', '1']);
    const upgrade = ['Upgrade', 'websocket', 'Connection', 'Upgrade'].map((s) => Buffer.from(s));
    assert.deepEqual(clientResponseHeaders(upgrade, true), ['Upgrade', 'websocket', 'Connection', 'Upgrade']);
  });

  test('trusted proxies: addresses and CIDRs, v4 and v6, v4-mapped unwrapped', () => {
    const t = new TrustedProxies(['10.0.0.0/8', '192.168.1.7', 'fd00::/8']);
    assert.ok(t.has('10.1.2.3'));
    assert.ok(t.has('192.168.1.7'));
    assert.ok(!t.has('192.168.1.8'));
    assert.ok(t.has('fd12::1'));
    assert.ok(t.has(normalizeIp('::ffff:10.9.9.9')));
    assert.ok(!new TrustedProxies().has('127.0.0.1'));
    assert.throws(() => new TrustedProxies(['10.0.0.0/33']), /not an IP address or CIDR/);
    assert.throws(() => new TrustedProxies(['localhost']), /not an IP address or CIDR/);
  });

  test('hash keys', () => {
    assert.equal(compileHashKey('header:X-User')?.({ 'x-user': 'bob' }, '1.2.3.4'), 'bob');
    assert.equal(compileHashKey('cookie:sid')?.({ cookie: 'a=1; sid="s1"' }, '1.2.3.4'), 's1');
    assert.equal(compileHashKey('ip')?.({}, '1.2.3.4'), '1.2.3.4');
    assert.equal(compileHashKey(undefined), undefined);
    assert.throws(() => compileHashKey('query:x'), /hash key/);
    assert.equal(cookieValue('sidx=1; sid=2', 'sid'), '2');
  });

  test('request targets', () => {
    assert.deepEqual(parseTarget('/a/../b?x'), { path: '/a/../b?x' });
    assert.deepEqual(parseTarget('http://h.test:8080'), { path: '/', host: 'h.test:8080' });
    assert.deepEqual(parseTarget('HTTPS://h.test?q=1'), { path: '/?q=1', host: 'h.test' });
    assert.equal(typeof parseTarget('*'), 'string');
    assert.equal(typeof parseTarget('http://a@b/'), 'string');
    assert.equal(typeof parseTarget('h.test:80'), 'string');
  });
});
