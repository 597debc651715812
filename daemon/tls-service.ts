// The daemon's local CA: opened (or created) in CMESH_HOME/ca on first use, server certificates for `x-cmesh.tls`
// listeners, client certificates for `cmesh cert issue`, renewals, and handshake problems logged and counted.

import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import client from 'prom-client';
import type { LocalCa } from '../mesh/tls/ca.ts';
import { CertStore, type CertStoreOptions } from '../mesh/tls/cert-store.ts';
import { type TlsProblem, TlsServing } from '../mesh/tls/serving.ts';
import { CmeshError } from './api/errors.ts';
import { CERT_NAME, type CaInfo, type CertIssueResponse, type CertRenewResponse, type TlsSpec } from './api/tls.ts';

/** Client certificates live longer than server ones: they are copied into test clients by hand. */
const CLIENT_CERT_LIFETIME_MS = 30 * 86_400_000;

const loadCa = () => import('../mesh/tls/ca.ts');

export interface DaemonTlsOptions {
  /** CMESH_HOME: the CA goes in `ca/`, client certificates in `certs/`. */
  home: string;
  log(line: string): void;
  /** Registries for `cmesh_tls_handshake_errors_total`. */
  registers?: client.Registry[];
  store?: CertStoreOptions;
}

export class DaemonTls {
  readonly #o: DaemonTlsOptions;
  #opened: Promise<{ ca: LocalCa; created: boolean; store: CertStore }> | undefined;
  readonly #problems: client.Counter<'project' | 'service' | 'reason'>;

  constructor(o: DaemonTlsOptions) {
    this.#o = o;
    this.#problems = new client.Counter({
      name: 'cmesh_tls_handshake_errors_total',
      help: 'TLS handshakes on published ports that failed, or asked for a name no certificate covers (reason unknown-sni; the default certificate was served).',
      labelNames: ['project', 'service', 'reason'],
      registers: o.registers ?? [],
    });
  }

  #open(): Promise<{ ca: LocalCa; created: boolean; store: CertStore }> {
    // The CA's X.509 code (@peculiar/x509, asn1js, tsyringe, reflect-metadata) loads here, on first use: most daemons
    // never serve TLS, and evaluated at start it held ~2.5 MB of their RSS (bench/RESULTS.md, rss section).
    this.#opened ??= loadCa()
      .then(({ LocalCa }) => LocalCa.open(join(this.#o.home, 'ca')))
      .then(({ ca, created }) => {
        if (created) this.#o.log(`tls: created the local CA ${ca.certPath} (trust it once: \`cmesh ca\`)`);
        const onRenewError = (err: unknown): void => this.#o.log(`tls: renewing server certificates failed (the current ones stay, retried hourly): ${String(err)}`);
        return { ca, created, store: new CertStore(ca, { onRenewError, ...this.#o.store }) };
      });
    // A failure (unreadable key, full disk) is not cached: the next use tries again and reports its own error.
    this.#opened.catch(() => {
      this.#opened = undefined;
    });
    return this.#opened.catch((err: unknown) => {
      throw new CmeshError('CMESH_E_TLS', `cannot open the local CA in ${join(this.#o.home, 'ca')}: ${(err as Error).message}`, {
        hint: 'check the directory is writable; delete it to start with a new CA (then trust the new one with `cmesh ca install`)',
      });
    });
  }

  /** `cmesh ca path`: creates the CA on first use. `created` is true only for the call that created it. */
  async caInfo(): Promise<CaInfo> {
    const first = this.#opened === undefined;
    const { ca, created } = await this.#open();
    const x = new X509Certificate(ca.certPem);
    return { path: ca.certPath, created: first && created, fingerprint: x.fingerprint256, notAfter: new Date(x.validTo).toISOString() };
  }

  /** The TLS side of one published port of `service`. */
  async serving(project: string, service: string, spec: TlsSpec): Promise<TlsServing> {
    const { store } = await this.#open();
    const [cert, fallback] = await Promise.all([store.serviceCert(service, spec.hosts), store.defaultCert()]);
    return new TlsServing({ service, cert, fallback, clientAuth: spec.clientAuth, onProblem: (p) => this.#problem(project, p) });
  }

  #problem(project: string, p: TlsProblem): void {
    this.#problems.inc({ project, service: p.service, reason: p.reason });
    if (p.quiet) return;
    const name = p.servername === undefined ? '' : ` (SNI "${p.servername}")`;
    this.#o.log(`tls: ${project}/${p.service}: ${p.reason}${name}: ${p.message.trim()}`);
  }

  /** `cmesh cert issue NAME`: a client certificate and its 0600 key under CMESH_HOME/certs/. */
  async issueClient(name: string): Promise<CertIssueResponse> {
    if (!CERT_NAME.test(name)) {
      throw new CmeshError('CMESH_E_USAGE', `invalid certificate name "${name.slice(0, 64)}"`, {
        hint: 'use letters, digits, dots, dashes and underscores (up to 64), starting with a letter or digit',
      });
    }
    const { ca } = await this.#open();
    const issued = await ca.issue({ commonName: name, sans: [], lifetimeMs: CLIENT_CERT_LIFETIME_MS, usage: 'client' });
    const { writeClientCert } = await loadCa();
    const paths = await writeClientCert(join(this.#o.home, 'certs'), name, issued);
    this.#o.log(`tls: issued client certificate ${name} (valid until ${issued.notAfter.toISOString()})`);
    return { ...paths, notAfter: issued.notAfter.toISOString() };
  }

  /** `cmesh cert renew`: every server certificate now; open connections keep theirs. */
  async renew(): Promise<CertRenewResponse> {
    const { store } = await this.#open();
    const renewed = await store.renewAll();
    this.#o.log(`tls: renewed ${renewed} server certificate(s)`);
    return { renewed };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const opened = await this.#opened?.catch(() => undefined);
    opened?.store[Symbol.dispose]();
  }
}
