// Server certificates of the TLS listeners, issued on demand by the local CA, held in memory only (a daemon restart
// issues fresh ones) and renewed before they expire. A renewal swaps the SecureContext new handshakes get; connections
// already established keep theirs, so nothing is dropped.

import { createSecureContext, type SecureContext } from 'node:tls';
import type { IssuedCert, LocalCa } from './ca.ts';

const DAY_MS = 86_400_000;

/** Every server certificate carries these names, so `https://localhost:PORT` works for any service. */
export const LOCAL_NAMES: readonly string[] = ['localhost', '127.0.0.1', '::1'];

export interface CertStoreOptions {
  /** Leaf lifetime (default 7 days: short, as browsers and the issue ask of a local CA). */
  lifetimeMs?: number;
  /** Renewed once less than this fraction of the lifetime is left (default 1/3). */
  renewAtFraction?: number;
  /** How often the renewal timer looks (default 1 hour; tests shorten it). */
  checkEveryMs?: number;
  /** A timed renewal failed (the certificate in use stays until the next try). */
  onRenewError?: (err: unknown) => void;
}

/** One certificate the store keeps current: its names, its PEMs and the context built from them. */
export class ServedCert {
  readonly names: ReadonlySet<string>;
  #issued: IssuedCert;
  #context: SecureContext;
  readonly #subscribers = new Set<() => void>();

  constructor(
    readonly commonName: string,
    names: readonly string[],
    issued: IssuedCert,
    readonly caPem: string,
  ) {
    this.names = new Set(names.map((n) => n.toLowerCase()));
    this.#issued = issued;
    this.#context = this.#build();
  }

  get issued(): IssuedCert {
    return this.#issued;
  }

  /** The context new handshakes get (the CA is in it so client certificates can be verified against it). */
  get context(): SecureContext {
    return this.#context;
  }

  /**
   * The options a tls.Server#setSecureContext needs for this certificate, the protocol floor (TLS 1.2) included.
   * The chain (leaf, then the CA) is given whole: with a leaf alone OpenSSL rebuilds and re-verifies the chain from
   * the trust store on every handshake (an ECDSA verify each, ~1.5 % of a new connection's CPU). `ca` stays for
   * verifying client certificates.
   */
  contextOptions(): { cert: string; key: string; ca: string; minVersion: 'TLSv1.2' } {
    return { cert: `${this.#issued.cert.trimEnd()}\n${this.caPem}`, key: this.#issued.key, ca: this.caPem, minVersion: 'TLSv1.2' };
  }

  /** Calls `fn` after every renewal; returns the unsubscribe. */
  onRenew(fn: () => void): () => void {
    this.#subscribers.add(fn);
    return () => this.#subscribers.delete(fn);
  }

  replace(issued: IssuedCert): void {
    this.#issued = issued;
    this.#context = this.#build();
    for (const fn of this.#subscribers) fn();
  }

  #build(): SecureContext {
    return createSecureContext(this.contextOptions());
  }
}

export class CertStore {
  readonly ca: LocalCa;
  readonly #lifetimeMs: number;
  readonly #renewAtFraction: number;
  readonly #certs = new Map<string, Promise<ServedCert>>();
  readonly #timer: NodeJS.Timeout;

  constructor(ca: LocalCa, o: CertStoreOptions = {}) {
    this.ca = ca;
    this.#lifetimeMs = o.lifetimeMs ?? 7 * DAY_MS;
    this.#renewAtFraction = o.renewAtFraction ?? 1 / 3;
    this.#timer = setInterval(() => void this.renewDue(Date.now()).catch((err: unknown) => o.onRenewError?.(err)), o.checkEveryMs ?? 3_600_000);
    this.#timer.unref();
  }

  /** The certificate for `localhost`, 127.0.0.1 and ::1 only: what a handshake without SNI or with an unknown name gets. */
  defaultCert(): Promise<ServedCert> {
    return this.#get('localhost', []);
  }

  /** The certificate of a service: the local names, `<service>.localhost` and the service's `x-cmesh.tls.hosts`. */
  serviceCert(service: string, hosts: readonly string[]): Promise<ServedCert> {
    return this.#get(service, [`${service}.localhost`, ...hosts]);
  }

  #get(commonName: string, extra: readonly string[]): Promise<ServedCert> {
    const names = [...new Set([...LOCAL_NAMES, ...extra.map((n) => n.toLowerCase())])];
    const id = `${commonName}|${names.join(',')}`;
    let cert = this.#certs.get(id);
    if (cert === undefined) {
      cert = this.#issue(commonName, names).then((issued) => new ServedCert(commonName, names, issued, this.ca.certPem));
      this.#certs.set(id, cert);
      // A failed issue is not cached: the next listener asks again.
      cert.catch(() => this.#certs.delete(id));
    }
    return cert;
  }

  #issue(commonName: string, names: readonly string[]): Promise<IssuedCert> {
    return this.ca.issue({ commonName, sans: names, lifetimeMs: this.#lifetimeMs, usage: 'server' });
  }

  /** Renews every certificate whose remaining lifetime fell under the threshold at `now`; returns how many. */
  async renewDue(now: number): Promise<number> {
    let renewed = 0;
    for (const pending of [...this.#certs.values()]) {
      const cert = await pending;
      // Measured against the asked lifetime: notBefore is backdated for clock skew.
      if (cert.issued.notAfter.getTime() - now > this.#lifetimeMs * this.#renewAtFraction) continue;
      await this.#renew(cert);
      renewed++;
    }
    return renewed;
  }

  /** `cmesh cert renew`: every certificate now, whatever its age; returns how many. */
  async renewAll(): Promise<number> {
    const certs = await Promise.all([...this.#certs.values()]);
    for (const cert of certs) await this.#renew(cert);
    return certs.length;
  }

  async #renew(cert: ServedCert): Promise<void> {
    cert.replace(await this.#issue(cert.commonName, [...cert.names]));
  }

  [Symbol.dispose](): void {
    clearInterval(this.#timer);
  }
}
