// The local certificate authority: one ECDSA P-256 CA kept in a directory (key 0600), issuing short-lived server
// certificates for published ports and client certificates for mTLS. X.509 through @peculiar/x509 over WebCrypto.

import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { type AtomicWriteOptions, writeFileAtomic } from '../../daemon/api/atomic-file.ts';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
/** Ten years: the CA is trusted once by hand, so it should outlive the projects it serves. */
const CA_LIFETIME_MS = 3650 * DAY_MS;
/** Backdated so a client clock a little behind the daemon's still accepts a fresh certificate. */
const CLOCK_SKEW_MS = 5 * 60_000;

export const CA_CERT_FILE = 'cmesh-ca.crt';
export const CA_KEY_FILE = 'cmesh-ca.key';

/** A certificate and its private key, both PEM, with the validity the renewal timer reads. */
export interface IssuedCert {
  cert: string;
  key: string;
  notBefore: Date;
  notAfter: Date;
}

export interface LeafRequest {
  commonName: string;
  /** DNS names and IP addresses; IPs become iPAddress SANs. */
  sans: readonly string[];
  lifetimeMs: number;
  usage: 'server' | 'client';
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function serial(): string {
  // Positive (top bit clear) 16-byte serial: unique enough that a browser never sees two certificates with one serial.
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

/** A loaded (or freshly created) CA that issues leaves. */
export class LocalCa {
  readonly dir: string;
  readonly certPath: string;
  readonly certPem: string;
  readonly #cert: x509.X509Certificate;
  readonly #key: CryptoKey;

  private constructor(dir: string, cert: x509.X509Certificate, key: CryptoKey) {
    this.dir = dir;
    this.certPath = join(dir, CA_CERT_FILE);
    this.#cert = cert;
    this.certPem = cert.toString('pem');
    this.#key = key;
  }

  /**
   * Loads the CA in `dir`, creating it (dir 0700, key 0600) when there is none. `created` says which. Each file is
   * replaced atomically, so a crash leaves no half key or certificate (`write` is a test seam for that crash).
   */
  static async open(dir: string, write: Pick<AtomicWriteOptions, 'beforeRename'> = {}): Promise<{ ca: LocalCa; created: boolean }> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const certPath = join(dir, CA_CERT_FILE);
    const keyPath = join(dir, CA_KEY_FILE);
    const [certText, keyText] = await Promise.all([readFile(certPath, 'utf8').catch(() => undefined), readFile(keyPath, 'utf8').catch(() => undefined)]);
    if (certText !== undefined && keyText !== undefined) {
      const key = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(keyText), ALG, false, ['sign']);
      return { ca: new LocalCa(dir, new x509.X509Certificate(certText), key as CryptoKey), created: false };
    }
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: `CN=cmesh local CA (${process.env['USER'] ?? 'user'}), O=cmesh development CA`,
      notBefore: new Date(now - CLOCK_SKEW_MS),
      notAfter: new Date(now + CA_LIFETIME_MS),
      signingAlgorithm: ALG,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    // Key first: a certificate on disk without its key would be loaded as a CA that cannot sign.
    await writeFileAtomic(keyPath, await keyPem(keys.privateKey), { ...write, mode: 0o600 });
    await writeFileAtomic(certPath, cert.toString('pem'), { ...write, mode: 0o644 });
    return { ca: new LocalCa(dir, cert, keys.privateKey), created: true };
  }

  /** A fresh key pair and a certificate for it, signed by this CA. */
  async issue(req: LeafRequest): Promise<IssuedCert> {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    const now = Date.now();
    const notBefore = new Date(now - CLOCK_SKEW_MS);
    const notAfter = new Date(Math.min(now + req.lifetimeMs, this.#cert.notAfter.getTime()));
    const names = req.sans.map((v) => (isIP(v) === 0 ? { type: 'dns' as const, value: v } : { type: 'ip' as const, value: v }));
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([req.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(this.#cert),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ];
    if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${req.commonName}`,
      issuer: this.#cert.subject,
      notBefore,
      notAfter,
      signingAlgorithm: ALG,
      publicKey: keys.publicKey,
      signingKey: this.#key,
      extensions,
    });
    return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey), notBefore, notAfter };
  }
}

/** Writes a client certificate and key as `<dir>/<name>.crt` and `.key` (key 0600, dir 0700). */
export async function writeClientCert(dir: string, name: string, issued: IssuedCert): Promise<{ cert: string; key: string }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const paths = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  await writeFileAtomic(paths.key, issued.key, { mode: 0o600 });
  await writeFileAtomic(paths.cert, issued.cert, { mode: 0o644 });
  return paths;
}
