// The HTTP proxy behind a TLS listener: https requests reach the replica with x-forwarded-proto https, a verified
// client certificate goes upstream as x-forwarded-client-cert and into the access log, a forged one never does.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Agent, request } from 'undici';
import type { ClientAuth } from '../../daemon/api/tls.ts';
import type { AccessLogEntry } from '../proxy/access-log.ts';
import { type TestUpstream, TestPool, startProxy, startUpstream, testMesh } from '../proxy/testing.ts';
import type { IssuedCert, } from './ca.ts';
import { TlsServing } from './serving.ts';
import { testCa } from './testing.ts';

const { ca, store } = await testCa('cmesh-proxy-tls');
let upstream: TestUpstream;
let alice: IssuedCert;

before(async () => {
  upstream = await startUpstream('web#1', (req, res) => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.headers));
  });
  alice = await ca.issue({ commonName: 'alice', sans: [], lifetimeMs: 86_400_000, usage: 'client' });
});
after(() => upstream.close());

async function tlsProxy(clientAuth: ClientAuth) {
  const log: AccessLogEntry[] = [];
  const tls = new TlsServing({ service: 'web', cert: await store.serviceCert('web', []), fallback: await store.defaultCert(), clientAuth });
  const p = await startProxy(new TestPool('web', [upstream.upstream]), testMesh({ accessLog: true }), { onAccessLog: (_line, e) => log.push(e) }, { tls });
  return { ...p, log };
}

async function get(port: number, connect: { cert?: string; key?: string } = {}) {
  const dispatcher = new Agent({ connect: { ca: ca.certPem, servername: 'web.localhost', ...connect } });
  try {
    const r = await request(`https://localhost:${port}/hello`, { dispatcher, headers: { 'x-forwarded-client-cert': 'Hash=forged;Subject="CN=root"' } });
    return { status: r.statusCode, headers: (await r.body.json()) as Record<string, string> };
  } finally {
    await dispatcher.close();
  }
}

test('https through the proxy: x-forwarded-proto https; a forged client-cert header is dropped', async () => {
  const p = await tlsProxy('none');
  try {
    const r = await get(p.port);
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-forwarded-proto'], 'https');
    assert.equal(r.headers['x-forwarded-client-cert'], undefined);
    assert.equal(p.log[0]?.clientCert, undefined);
  } finally {
    await p.close();
  }
});

test('client_auth require: the verified certificate goes upstream (Envoy format) and into the access log', async () => {
  const p = await tlsProxy('require');
  try {
    const r = await get(p.port, { cert: alice.cert, key: alice.key });
    assert.equal(r.status, 200);
    const hash = new X509Certificate(alice.cert).fingerprint256.replaceAll(':', '').toLowerCase();
    assert.equal(r.headers['x-forwarded-client-cert'], `Hash=${hash};Subject="CN=alice"`);
    assert.equal(p.log.length, 1);
    assert.equal(p.log[0]?.clientCert, 'CN=alice');
    assert.equal(p.log[0]?.status, 200);
    await assert.rejects(get(p.port), 'no client certificate, no request');
  } finally {
    await p.close();
  }
});

test('client_auth request: anonymous clients are served without an identity', async () => {
  const p = await tlsProxy('request');
  try {
    const anon = await get(p.port);
    assert.equal(anon.status, 200);
    assert.equal(anon.headers['x-forwarded-client-cert'], undefined);
    const named = await get(p.port, { cert: alice.cert, key: alice.key });
    assert.match(named.headers['x-forwarded-client-cert'] ?? '', /^Hash=[0-9a-f]{64};Subject="CN=alice"$/);
  } finally {
    await p.close();
  }
});
