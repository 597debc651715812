// The local CA on disk: created once with private modes, loaded again unchanged, leaves chained to it with the asked SANs.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LocalCa, writeClientCert } from './ca.ts';

const root = await mkdtemp(join(tmpdir(), 'cmesh-ca-'));
after(() => rm(root, { recursive: true, force: true }));

const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;

test('creates an ECDSA P-256 CA with a 0600 key in a 0700 directory, and loads the same one again', async () => {
  const dir = join(root, 'ca');
  const first = await LocalCa.open(dir);
  assert.equal(first.created, true);
  assert.equal(await mode(dir), 0o700);
  assert.equal(await mode(join(dir, 'cmesh-ca.key')), 0o600);
  const ca = new X509Certificate(first.ca.certPem);
  assert.equal(ca.ca, true);
  assert.equal(ca.publicKey.asymmetricKeyType, 'ec');
  assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.ok(ca.checkIssued(ca), 'self-signed');
  const again = await LocalCa.open(dir);
  assert.equal(again.created, false);
  assert.equal(again.ca.certPem, first.ca.certPem);
  // The reloaded key signs leaves that chain to the same certificate.
  const leaf = new X509Certificate((await again.ca.issue({ commonName: 'x', sans: ['x.localhost'], lifetimeMs: 60_000, usage: 'server' })).cert);
  assert.ok(leaf.checkIssued(ca));
  assert.ok(leaf.verify(ca.publicKey));
});

test('a server leaf: SANs for names and IPs, short-lived, not a CA', async () => {
  const { ca } = await LocalCa.open(join(root, 'leaf'));
  const issued = await ca.issue({ commonName: 'web', sans: ['localhost', '127.0.0.1', '::1', 'web.localhost', 'api.test'], lifetimeMs: 2 * 86_400_000, usage: 'server' });
  const leaf = new X509Certificate(issued.cert);
  assert.equal(leaf.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:web.localhost, DNS:api.test');
  assert.equal(leaf.ca, false);
  assert.equal(leaf.subject, 'CN=web');
  const days = (Date.parse(leaf.validTo) - Date.now()) / 86_400_000;
  assert.ok(days > 1.9 && days <= 2, `valid for ${days} days`);
  assert.ok(leaf.checkHost('web.localhost'));
  assert.ok(leaf.checkIP('::1'));
  assert.equal(leaf.checkHost('other.localhost'), undefined);
});

test('client certificates are written with a 0600 key under their own name', async () => {
  const { ca } = await LocalCa.open(join(root, 'client'));
  const issued = await ca.issue({ commonName: 'alice', sans: [], lifetimeMs: 86_400_000, usage: 'client' });
  const dir = join(root, 'certs');
  const paths = await writeClientCert(dir, 'alice', issued);
  assert.deepEqual(paths, { cert: join(dir, 'alice.crt'), key: join(dir, 'alice.key') });
  assert.equal(await mode(paths.key), 0o600);
  assert.equal(await mode(dir), 0o700);
  assert.equal(new X509Certificate(issued.cert).subject, 'CN=alice');
});

test('a crash while the CA is written leaves no half file: the key is 0600 from its creation, the next open starts clean', async () => {
  const dir = join(root, 'crash');
  const seen: { name: string; mode: number; text: string }[] = [];
  // The hook runs where a crash would hit: each file complete and durable under its tmp name, before its rename.
  const crashAtCert = {
    beforeRename: async (tmp: string) => {
      seen.push({ name: tmp.slice(dir.length + 1), mode: await mode(tmp), text: await readFile(tmp, 'utf8') });
      if (tmp.includes('cmesh-ca.crt')) throw new Error('simulated crash');
    },
  };
  await assert.rejects(LocalCa.open(dir, crashAtCert), /simulated crash/);
  assert.deepEqual(
    seen.map((s) => s.name.replace(/\.tmp-\d+-\w+$/, '.tmp')),
    ['cmesh-ca.key.tmp', 'cmesh-ca.crt.tmp'],
  );
  assert.equal(seen[0]!.mode, 0o600, 'the key tmp file is private before it has its final name');
  assert.match(seen[0]!.text, /^-----BEGIN PRIVATE KEY-----[\s\S]+-----END PRIVATE KEY-----\n?$/);
  assert.deepEqual(await readdir(dir), ['cmesh-ca.key'], 'the whole key, no certificate, no tmp file');
  assert.equal(await readFile(join(dir, 'cmesh-ca.key'), 'utf8'), seen[0]!.text);
  // A key without its certificate is no CA: the next open makes a whole new one, and it loads again after.
  const next = await LocalCa.open(dir);
  assert.equal(next.created, true);
  assert.notEqual(await readFile(join(dir, 'cmesh-ca.key'), 'utf8'), seen[0]!.text);
  assert.deepEqual((await readdir(dir)).sort(), ['cmesh-ca.crt', 'cmesh-ca.key']);
  assert.equal((await LocalCa.open(dir)).ca.certPem, next.ca.certPem);
});
