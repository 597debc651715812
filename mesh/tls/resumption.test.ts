// Session resumption on a TLS listener: a client that resumes (browsers, curl, node's https agent) skips the
// certificate signature and key exchange of a full handshake. It must work with and without SNI, for the service's
// certificate and the default one, over TLS 1.2 and 1.3, and still after a renewal swapped the contexts.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { type TLSSocket, connect } from 'node:tls';
import { TlsServing } from './serving.ts';
import { testCa } from './testing.ts';

const { ca, store } = await testCa('cmesh-tls-resume');

/** A listener answering `ok` and closing; `dial` connects (offering `session` if given) and reports what it got. */
async function listener(): Promise<{ port: number; close(): void }> {
  const tls = new TlsServing({ service: 'web', cert: await store.serviceCert('web', []), fallback: await store.defaultCert(), clientAuth: 'none' });
  const server = tls.createServer({}, (s) => {
    s.on('error', () => undefined);
    s.on('data', () => s.end('ok'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

interface Dialled {
  reused: boolean;
  /** The session the server gave (a TLS 1.3 ticket arrives after the handshake: kept from the last 'session'). */
  session: Buffer | undefined;
  /** The server certificate's CN (a resumed handshake sends none). */
  subject: string;
  fingerprint: string;
}

/** Any name is let through: an unknown one gets the default certificate, which is what the test looks at. */
function dial(port: number, servername: string | undefined, maxVersion: 'TLSv1.2' | 'TLSv1.3', session?: Buffer): Promise<Dialled> {
  return new Promise((resolve, reject) => {
    let got: Buffer | undefined;
    const s: TLSSocket = connect({ host: '127.0.0.1', port, ca: ca.certPem, servername: servername ?? '', maxVersion, ...(session ? { session } : {}), checkServerIdentity: () => undefined }, () => s.write('?'));
    s.on('session', (b: Buffer) => {
      got = b;
    });
    s.on('data', () => undefined);
    s.on('end', () => {
      const peer = s.getPeerCertificate();
      resolve({ reused: s.isSessionReused(), session: got, subject: String(peer.subject?.CN), fingerprint: String(peer.fingerprint256) });
    });
    s.on('error', reject);
  });
}

for (const servername of [undefined, 'web.localhost', 'unknown.test']) {
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    test(`a client resuming its session is not given a full handshake (SNI ${servername ?? 'none'}, ${version})`, async (t) => {
      const l = await listener();
      t.after(() => l.close());
      const first = await dial(l.port, servername, version);
      assert.deepEqual([first.reused, first.subject], [false, servername === 'web.localhost' ? 'web' : 'localhost']);
      assert.ok(first.session, 'the server issued a session ticket');
      const second = await dial(l.port, servername, version, first.session);
      assert.equal(second.reused, true);
    });
  }
}

test('sessions issued before a renewal still resume, and a fresh handshake gets the renewed certificate', async (t) => {
  const l = await listener();
  t.after(() => l.close());
  const first = await dial(l.port, 'web.localhost', 'TLSv1.3');
  const cert = await store.serviceCert('web', []);
  const before = cert.issued.cert;
  assert.equal(await store.renewAll(), 2);
  assert.notEqual(cert.issued.cert, before);
  const resumed = await dial(l.port, 'web.localhost', 'TLSv1.3', first.session);
  assert.equal(resumed.reused, true);
  const fresh = await dial(l.port, 'web.localhost', 'TLSv1.3');
  assert.deepEqual([fresh.reused, fresh.fingerprint], [false, new X509Certificate(cert.issued.cert).fingerprint256]);
});
