// x-forwarded-client-cert in both header rewriters (HTTP requests and WebSocket handshakes): a client's copy is
// dropped even from a trusted peer, and only the proxy's own verified value goes upstream.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { upstreamRequestHeaders } from '../proxy/forwarded-headers.ts';
import { newPreparedRequest, prepareRequest } from '../proxy/request-head.ts';
import { subjectString } from './identity.ts';

const forged = ['Host', 'a', 'X-Forwarded-Client-Cert', 'Hash=00;Subject="CN=root"', 'X-Forwarded-For', '1.1.1.1'];
const mine = 'Hash=ab;Subject="CN=alice"';

test('request heads: a trusted peer keeps its X-Forwarded-For but never its client-cert claim', () => {
  const out = newPreparedRequest();
  assert.equal(prepareRequest('GET', '/', forged, true, { clientIp: '10.0.0.9', trusted: true, proto: 'https' }, out), undefined);
  assert.doesNotMatch(out.head, /client-cert/i);
  assert.match(out.head, /x-forwarded-for: 1\.1\.1\.1, 10\.0\.0\.9\r\nx-forwarded-proto: https\r\n/);
  prepareRequest('GET', '/', forged, true, { clientIp: '10.0.0.9', trusted: false, proto: 'https', xfcc: mine }, out);
  assert.equal(out.head.match(/x-forwarded-client-cert/gi)?.length, 1);
  assert.match(out.head, /\r\nx-forwarded-client-cert: Hash=ab;Subject="CN=alice"\r\n$/);
});

test('WebSocket handshakes follow the same rule', () => {
  const anon = upstreamRequestHeaders(forged, { clientIp: '10.0.0.9', trusted: true, proto: 'https', upgrade: true });
  assert.equal(anon.findIndex((h) => h.toLowerCase() === 'x-forwarded-client-cert'), -1);
  const named = upstreamRequestHeaders(forged, { clientIp: '10.0.0.9', trusted: true, proto: 'https', xfcc: mine });
  assert.deepEqual(named.filter((_, i) => named[i - 1]?.toLowerCase() === 'x-forwarded-client-cert'), [mine]);
});

test('subjects in RFC 2253 order, separators escaped', () => {
  assert.equal(subjectString({ C: 'US', O: 'Acme, Inc', CN: 'alice' } as never), 'CN=alice,O=Acme\\, Inc,C=US');
  assert.equal(subjectString({ OU: ['a', 'b'], CN: 'x' } as never), 'CN=x,OU=b,OU=a');
});
