// Request-smuggling corpus sent on raw sockets: strict llhttp (plus our Host and target checks) answers 400,
// and since the proxy re-frames every request it forwards, an upstream sees each request at most once.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type RunningProxy, type TestUpstream, TestPool, describeEachReadPath, rawRequest, startProxy, startUpstream } from './testing.ts';

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n';

/** name → [payload, what must happen]. `once`: llhttp accepts it, and the upstream gets exactly one clean request. */
const CORPUS: Record<string, [string, 400 | 405 | 431 | 'once']> = {
  'CL + TE': [`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
  'TE + CL': [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
  'duplicate CL, different': [`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 37\r\n\r\n${SMUGGLED}`, 400],
  'duplicate CL, same': [`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello`, 400],
  'CL list': [`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello`, 400],
  'CL sign': [`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello`, 400],
  'CL negative': [`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n`, 400],
  'CL hex': [`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello`, 400],
  'obs-fold': [`GET / HTTP/1.1\r\nHost: a\r\nX-Foo: a\r\n  b\r\n\r\n`, 400],
  'obs-fold on TE': [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
  'chunk size not hex': [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`, 400],
  'chunk size overflow': [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nhello\r\n0\r\n\r\n`, 400],
  'chunk size trailing space': [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n`, 400],
  'chunk extension bare LF': [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a\nb\r\nhello\r\n0\r\n\r\n`, 400],
  'chunk data overrun': [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n${SMUGGLED}`, 400],
  'space before colon (CL)': [`POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\nhello`, 400],
  'space before colon (TE)': [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
  'tab before colon': [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n`, 400],
  'TE xchunked': [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
  'TE chunked, identity': [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`, 400],
  'TE twice': [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n`, 400],
  'TE gzip without chunked': [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
  // llhttp (node 20) rejects bare LF line endings and bare CR in strict mode.
  'bare LF line endings': [`GET /lf HTTP/1.1\nHost: a\n\n${SMUGGLED}`, 400],
  'bare LF in one header': [`GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n`, 400],
  'bare CR in value': [`GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n`, 400],
  'NUL in value': [`GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n`, 400],
  'invalid name char': [`GET / HTTP/1.1\r\nHost: a\r\nX(Foo: a\r\n\r\n`, 400],
  'space in target': [`GET /a b HTTP/1.1\r\nHost: a\r\n\r\n`, 400],
  'lowercase method': [`get / HTTP/1.1\r\nHost: a\r\n\r\n`, 400],
  'HTTP/1.2': [`GET / HTTP/1.2\r\nHost: a\r\n\r\n`, 400],
  'missing Host': [`GET / HTTP/1.1\r\nX: y\r\n\r\n`, 400],
  'duplicate Host': [`GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n${SMUGGLED}`, 400],
  'absolute-form with userinfo': [`GET http://u@b.test/ HTTP/1.1\r\nHost: a\r\n\r\n`, 400],
  'absolute-form, other scheme': [`GET ftp://b.test/ HTTP/1.1\r\nHost: a\r\n\r\n`, 400],
  'authority-form on GET': [`GET b.test:80 HTTP/1.1\r\nHost: a\r\n\r\n`, 400],
  CONNECT: [`CONNECT b.test:443 HTTP/1.1\r\nHost: b.test:443\r\n\r\n`, 405],
  'header over 16 KiB': [`GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  // Accepted by llhttp, harmless because the request is re-serialised: the upstream sees one canonical request.
  'TE chunked on HTTP/1.0': [`POST /one HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 'once'],
  'leading empty line (RFC 9112 §2.2)': [`\r\nGET /one HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`, 'once'],
  'absolute-form with CL body': [`POST http://b.test/one HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`, 'once'],
};

describeEachReadPath('request smuggling corpus', { timeout: 30_000 }, () => {
  let up: TestUpstream;
  let p: RunningProxy;
  const seen: string[] = [];
  before(async () => {
    up = await startUpstream('web#1', (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    p = await startProxy(new TestPool('web', [up.upstream]));
  });
  after(async () => {
    await p.close();
    await up.close();
  });

  for (const [name, [payload, expected]] of Object.entries(CORPUS)) {
    test(name, async () => {
      seen.length = 0;
      const res = await rawRequest(p.port, payload, 1500);
      const statusLine = res.slice(0, res.indexOf('\r\n'));
      assert.ok(!seen.includes('GET /smuggled'), 'a smuggled request reached the upstream');
      if (expected === 'once') {
        assert.match(statusLine, /^HTTP\/1\.1 200 /);
        assert.equal(seen.length, 1);
        assert.match(seen[0]!, / \/one$/);
        return;
      }
      assert.match(statusLine, new RegExp(`^HTTP/1\\.1 ${expected} `));
      assert.match(res, /\r\nConnection: close\r\n/i);
      assert.match(res, /\r\nX-Cmesh-Error: /i);
      assert.equal(seen.length, 0, `upstream saw ${JSON.stringify(seen)}`);
    });
  }
});
