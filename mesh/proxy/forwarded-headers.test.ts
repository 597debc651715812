// Header rewriting rules in isolation: hop-by-hop stripping, X-Forwarded-* trust, hash keys and request targets.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TrustedProxies, normalizeIp, upstreamRequestHeaders } from './forwarded-headers.ts';
import { compileHashKey, cookieValue } from './hash-key.ts';
import { newPreparedRequest, prepareRequest } from './request-head.ts';
import { parseTarget } from './request-target.ts';
import { clientResponseHead, newResponseFacts } from './response-head.ts';

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

  test('client response head: duplicate fields and their case kept, in order', () => {
    const raw = ['Set-Cookie', 'a', 'set-cookie', 'b', 'Connection', 'keep-alive, X-Hop', 'X-Hop', 'h', 'Transfer-Encoding', 'chunked'];
    assert.equal(clientResponseHead(200, 'OK', raw, newResponseFacts()), 'HTTP/1.1 200 OK\r\nSet-Cookie: a\r\nset-cookie: b\r\n');
  });

  test('upstream request head: one string, same rules, framing facts', () => {
    const r = newPreparedRequest();
    const raw = ['Host', 'a', 'X-A', '1', 'Connection', 'keep-alive, X-Hop, Content-Length, Host', 'X-Hop', 'h', 'Content-Length', '5', 'Expect', '100-continue', 'X-Forwarded-For', '6.6.6.6'];
    assert.equal(prepareRequest('POST', '/p?q', raw, true, info, r), undefined);
    assert.equal(r.head, 'POST /p?q HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nContent-Length: 5\r\nx-forwarded-for: 10.0.0.9\r\nx-forwarded-proto: http\r\nx-forwarded-host: a\r\n');
    const facts = { needsHost: r.needsHost, chunked: r.chunked, contentLength: r.contentLength, expectContinue: r.expectContinue, replaySafe: r.replaySafe };
    assert.deepEqual(facts, { needsHost: false, chunked: false, contentLength: 5, expectContinue: true, replaySafe: false });
    assert.equal(prepareRequest('POST', '/', ['Host', 'a', 'Transfer-Encoding', 'chunked', 'Idempotency-Key', 'k'], true, { ...info, via: 'cm' }, r), undefined);
    assert.ok(r.chunked && r.replaySafe && r.contentLength === -1);
    assert.match(r.head, /\r\nvia: 1\.1 cm\r\n$/);
    assert.equal(prepareRequest('GET', 'http://b.test:81/x', ['Host', 'a'], true, info, r), undefined);
    assert.equal(r.head, 'GET /x HTTP/1.1\r\nhost: b.test:81\r\nx-forwarded-for: 10.0.0.9\r\nx-forwarded-proto: http\r\nx-forwarded-host: b.test:81\r\n');
    // The forwarding lines a connection reuses follow its Host and its peer's own claims, request by request.
    assert.equal(prepareRequest('GET', '/', ['Host', 'c'], true, info, r), undefined);
    assert.equal(r.head, 'GET / HTTP/1.1\r\nHost: c\r\nx-forwarded-for: 10.0.0.9\r\nx-forwarded-proto: http\r\nx-forwarded-host: c\r\n');
    const trusted = { ...info, trusted: true };
    assert.equal(prepareRequest('GET', '/', ['Host', 'c', 'X-Forwarded-For', '1.1.1.1'], true, trusted, r), undefined);
    assert.match(r.head, /\r\nx-forwarded-for: 1\.1\.1\.1, 10\.0\.0\.9\r\n/);
    assert.equal(prepareRequest('GET', '/', ['Host', 'c'], true, trusted, r), undefined);
    assert.match(r.head, /\r\nx-forwarded-for: 10\.0\.0\.9\r\n/);
    assert.equal(prepareRequest('GET', '/', [], false, info, r), undefined);
    assert.ok(r.needsHost, 'HTTP/1.0 without Host is allowed; the attempt names the replica');
    assert.equal(prepareRequest('GET', '/', [], true, info, r)?.message, 'missing Host header');
    assert.equal(prepareRequest('GET', '/', ['Host', 'a', 'host', 'b'], true, info, r)?.message, 'more than one Host header');
    assert.equal(prepareRequest('GET', '*', ['Host', 'a'], true, info, r)?.status, 400);
    assert.equal(prepareRequest('PUT', '/', ['Host', 'a', 'Expect', 'x'], true, info, r)?.status, 417);
  });

  test('client response head: hop-by-hop and named fields gone, framing facts, keep-alive hint', () => {
    const facts = newResponseFacts();
    const raw = ['Content-Type', 'text/plain', 'Connection', 'keep-alive, X-Hop', 'X-Hop', '1', 'Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked', 'Set-Cookie', 'a'];
    assert.equal(clientResponseHead(200, 'OK', raw, facts), 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a\r\n');
    assert.deepEqual(facts, { contentLength: false, chunked: true, keepAliveTimeout: 5 });
    assert.equal(clientResponseHead(404, '', ['Content-Length', '0'], facts), 'HTTP/1.1 404 \r\nContent-Length: 0\r\n');
    assert.deepEqual(facts, { contentLength: true, chunked: false, keepAliveTimeout: -1 });
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
    assert.equal(compileHashKey('header:X-User')?.(['Host', 'a', 'X-User', 'bob'], '1.2.3.4'), 'bob');
    assert.equal(compileHashKey('header:X-User')?.(['x-user', 'a', 'X-USER', 'b'], '1.2.3.4'), 'a, b');
    assert.equal(compileHashKey('header:X-User')?.(['Host', 'a'], '1.2.3.4'), undefined);
    assert.equal(compileHashKey('cookie:sid')?.(['Cookie', 'a=1; sid="s1"'], '1.2.3.4'), 's1');
    assert.equal(compileHashKey('cookie:sid')?.(['Cookie', 'a=1', 'cookie', 'sid=s2'], '1.2.3.4'), 's2');
    assert.equal(compileHashKey('ip')?.([], '1.2.3.4'), '1.2.3.4');
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
