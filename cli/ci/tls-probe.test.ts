// The HTTPS smoke probe against real TLS listeners of the local CA: a GET on plain TLS ports, a handshake where
// client certificates are required, and failures named; a CA given only through NODE_EXTRA_CA_CERTS (which bin/cmesh
// keeps from node's start: cli/tls-client-trust.ts) is trusted, as node trusts it in a process started with it.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { test } from 'node:test';
import type { ClientAuth } from '../../daemon/api/tls.ts';
import { TlsServing } from '../../mesh/tls/serving.ts';
import { testCa } from '../../mesh/tls/testing.ts';
import { httpsProbe } from './tls-probe.ts';

const { store, ca } = await testCa('cmesh-tls-probe');
const untrusted = ' (certificate not trusted here: SELF_SIGNED_CERT_IN_CHAIN)';
/** This test process's env (node's store has no test CA) with the test CA named the way a user names theirs. */
const withCa = { ...process.env, NODE_EXTRA_CA_CERTS: ca.certPath };
const withoutCa = { ...process.env, NODE_EXTRA_CA_CERTS: undefined };

/** A TLS port answering every request with `status` (a minimal HTTP/1.1 responder). */
async function port(clientAuth: ClientAuth, status: number): Promise<{ port: number; close(): Promise<void> }> {
  const tls = new TlsServing({ service: 'web', cert: await store.serviceCert('web', []), fallback: await store.defaultCert(), clientAuth });
  const sockets = new Set<Socket>();
  const server = tls.createServer({}, (s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('data', () => s.end(`HTTP/1.1 ${status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

test('a TLS port: GET / over HTTPS, a 5xx fails like on plain ports', async () => {
  const good = await port('none', 204);
  const bad = await port('request', 503);
  try {
    assert.deepEqual(await httpsProbe('127.0.0.1', good.port, false, 2000, withoutCa), { ok: true, detail: `GET / → 204${untrusted}` });
    assert.deepEqual(await httpsProbe('127.0.0.1', bad.port, false, 2000, withoutCa), { ok: false, detail: `GET / → 503${untrusted}` });
    assert.deepEqual(await httpsProbe('127.0.0.1', good.port, false, 2000, withCa), { ok: true, detail: 'GET / → 204' });
  } finally {
    await good.close();
    await bad.close();
  }
});

test('client certificates required: a completed handshake passes; nothing listening fails with its code', async () => {
  const mtls = await port('require', 200);
  try {
    const ok = 'TLS handshake → ok (client certificate required)';
    assert.deepEqual(await httpsProbe('127.0.0.1', mtls.port, true, 2000, withCa), { ok: true, detail: ok });
    assert.deepEqual(await httpsProbe('127.0.0.1', mtls.port, true, 2000, withoutCa), { ok: true, detail: `${ok}${untrusted}` });
  } finally {
    await mtls.close();
  }
  assert.deepEqual(await httpsProbe('127.0.0.1', mtls.port, true, 2000, withCa), { ok: false, detail: 'TLS handshake → ECONNREFUSED' });
  assert.deepEqual(await httpsProbe('127.0.0.1', mtls.port, false, 2000, withCa), { ok: false, detail: 'GET / → ECONNREFUSED' });
});

test('an unreadable NODE_EXTRA_CA_CERTS file is ignored, as node ignores it: the bundled roots only', async () => {
  const good = await port('none', 200);
  try {
    const missing = { ...process.env, NODE_EXTRA_CA_CERTS: `${ca.certPath}.missing` };
    assert.deepEqual(await httpsProbe('127.0.0.1', good.port, false, 2000, missing), { ok: true, detail: `GET / → 200${untrusted}` });
  } finally {
    await good.close();
  }
});
