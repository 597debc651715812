// The upstream request head's memo: a keep-alive client's repeated request reuses the head built for the last one,
// and anything that differs (method, target, a field, the version, the connection) or a refusal builds it again.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ForwardingInfo } from './forwarded-headers.ts';
import { type PreparedRequest, newPreparedRequest, prepareRequest } from './request-head.ts';

/** Each string built at run time, as node's parser hands them over (never the literal's own string object). */
const fresh = (x: string): string => [...x].join('');
const fields = (xs: readonly string[]): string[] => xs.map(fresh);

const info: ForwardingInfo = { clientIp: '10.0.0.9', trusted: false, proto: 'http', xfcc: undefined, via: undefined };
const otherInfo: ForwardingInfo = { ...info, clientIp: '10.0.0.10' };

/** What a request head makes, as the exchange and the client connection read it. */
const made = (r: PreparedRequest) => ({ head: r.head, wire: r.wire, needsHost: r.needsHost, chunked: r.chunked, contentLength: r.contentLength, expectContinue: r.expectContinue, replaySafe: r.replaySafe });

test('a repeated request is prepared once; every difference, and every refusal, prepares it again', () => {
  const get = ['Host', 'web:8080', 'Connection', 'keep-alive'];
  const post = ['Host', 'web:8080', 'Content-Length', '5', 'Expect', '100-continue'];
  const twoHosts = ['Host', 'a', 'Host', 'b'];
  // Refused (417) after the check reset expectContinue: the memo must not stand for `post` afterwards.
  const badExpect = ['Host', 'web:8080', 'Content-Length', '5', 'Expect', 'bogus'];
  const seq: Array<[string, string, readonly string[], boolean, ForwardingInfo, string | undefined, number]> = [
    // method, target, fields, HTTP/1.1, connection, refusal code, heads built so far
    ['GET', '/a', get, true, info, undefined, 1],
    ['GET', '/a', get, true, info, undefined, 1],
    ['GET', '/b', get, true, info, undefined, 2],
    ['HEAD', '/b', get, true, info, undefined, 3],
    ['HEAD', '/b', get, false, info, undefined, 4],
    ['HEAD', '/b', get, false, otherInfo, undefined, 5],
    ['POST', '/b', post, true, otherInfo, undefined, 6],
    ['POST', '/b', post, true, otherInfo, undefined, 6],
    ['POST', '/b', badExpect, true, otherInfo, 'bad-request', 7],
    ['POST', '/b', post, true, otherInfo, undefined, 8],
    ['GET', '/b', twoHosts, true, otherInfo, 'bad-request', 9],
    ['GET', '/b', twoHosts, true, otherInfo, 'bad-request', 10],
    ['GET', '/b', get.slice(0, 2), true, otherInfo, undefined, 11],
    ['GET', '/b', get.slice(0, 2), true, otherInfo, undefined, 11],
  ];
  const out = newPreparedRequest();
  for (const [method, url, raw, http11, conn, refused, builds] of seq) {
    const direct = newPreparedRequest();
    const want = prepareRequest(method, url, raw, http11, conn, direct);
    const got = prepareRequest(method, fresh(url), fields(raw), http11, conn, out);
    const what = `${method} ${url} ${raw.join(',')} 1.${http11 ? 1 : 0} ${conn.clientIp}`;
    assert.equal(got?.code, refused, what);
    assert.deepEqual(got, want, what);
    if (refused === undefined) assert.deepEqual(made(out), made(direct), what);
    assert.equal(out.builds, builds, `heads built after ${what}`);
  }
});
