// TLS on a published port: a tls.Server beside the proxy's net.Server. SNI picks the service's certificate; no SNI or
// an unknown name gets the default (localhost) one. Client certificates are asked for or required per
// `x-cmesh.tls.client_auth`, and failed handshakes are reported with a reason for the metrics and the log.

import type { ServerOpts, Socket } from 'node:net';
import { type SecureContext, type TLSSocket, createServer as createTlsServer } from 'node:tls';
import type { ClientAuth } from '../../daemon/api/tls.ts';
import type { ServedCert } from './cert-store.ts';

/** A failed handshake, or a name no certificate of the listener covers (served the default certificate). */
export interface TlsProblem {
  service: string;
  reason: TlsProblemReason;
  message: string;
  /** The SNI name the client asked for, when there was one. */
  servername?: string;
  /** Already logged for this listener: count it, do not log it again. */
  quiet?: boolean;
}

export type TlsProblemReason =
  | 'unknown-sni'
  | 'no-client-cert'
  | 'bad-client-cert'
  | 'cert-rejected-by-client'
  | 'not-tls'
  | 'protocol-version'
  | 'no-shared-cipher'
  | 'alpn'
  | 'timeout'
  | 'client-reset'
  | 'other';

export interface TlsServingOptions {
  service: string;
  /** The service's certificate (`<service>.localhost`, x-cmesh.tls.hosts, the local names). */
  cert: ServedCert;
  /** What a handshake without SNI or with an unknown name gets (localhost, 127.0.0.1, ::1). */
  fallback: ServedCert;
  clientAuth: ClientAuth;
  onProblem?: (problem: TlsProblem) => void;
  /** A handshake must complete within this (default 10 s, like the proxy's header timeout). */
  handshakeTimeoutMs?: number;
}

/** HTTP/2 preferred (mesh/h2), HTTP/1.1 for clients that do not offer it. */
export const ALPN = ['h2', 'http/1.1'];

/** OpenSSL / node error codes of a failed handshake, as the metric's reason label names them. */
const REASONS: Record<string, TlsProblemReason> = {
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: 'no-client-cert',
  ERR_SSL_CERTIFICATE_VERIFY_FAILED: 'bad-client-cert',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'cert-rejected-by-client',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'cert-rejected-by-client',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: 'cert-rejected-by-client',
  ERR_SSL_HTTP_REQUEST: 'not-tls',
  ERR_SSL_WRONG_VERSION_NUMBER: 'not-tls',
  ERR_SSL_UNSUPPORTED_PROTOCOL: 'protocol-version',
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'protocol-version',
  ERR_SSL_NO_SHARED_CIPHER: 'no-shared-cipher',
  ERR_SSL_NO_APPLICATION_PROTOCOL: 'alpn',
  ERR_TLS_HANDSHAKE_TIMEOUT: 'timeout',
  ECONNRESET: 'client-reset',
};

export function problemReason(err: NodeJS.ErrnoException): TlsProblemReason {
  return REASONS[err.code ?? ''] ?? 'other';
}

/** At most this many distinct unknown names are logged per listener (all are counted). */
const LOGGED_NAMES_MAX = 100;
/** Other problems are logged at most once a reason in this window per listener (a scanner must not flood the log). */
const LOG_EVERY_MS = 10_000;

export class TlsServing {
  readonly o: TlsServingOptions;
  readonly #loggedNames = new Set<string>();
  readonly #loggedAt = new Map<TlsProblemReason, number>();

  constructor(o: TlsServingOptions) {
    this.o = o;
  }

  /** The listener's server: `onConnection` gets each socket once its handshake is done. */
  createServer(options: ServerOpts, onConnection: (socket: Socket) => void): ReturnType<typeof createTlsServer> {
    const { fallback, clientAuth } = this.o;
    const server = createTlsServer({
      ...options,
      ...fallback.contextOptions(),
      ALPNProtocols: ALPN,
      requestCert: clientAuth !== 'none',
      // `request`: a certificate the CA did not issue is let through, just never named upstream (see identity.ts).
      rejectUnauthorized: clientAuth === 'require',
      handshakeTimeout: this.o.handshakeTimeoutMs ?? 10_000,
      SNICallback: (name: string, cb: (err: Error | null, ctx?: SecureContext) => void) => cb(null, this.#contextFor(name)),
    });
    server.on('secureConnection', (socket: TLSSocket) => onConnection(socket));
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      const servername = (socket as TLSSocket & { servername?: string | false }).servername;
      const name = typeof servername === 'string' ? servername : undefined;
      // A certificate the CA did not sign passes OpenSSL (node verifies after the handshake) and node then destroys
      // the socket, which surfaces here as a hang-up: authorizationError tells the real reason.
      const rejected = socket.authorizationError;
      if (rejected) this.#report('bad-client-cert', `client certificate refused: ${String(rejected)}`, name);
      else this.#report(problemReason(err), err.message, name);
    });
    // Handshakes without SNI use the server's own context: it follows the default certificate's renewals. The ticket
    // keys go along (setSecureContext would draw new ones): sessions issued before a renewal still resume, instead of
    // every client paying a full handshake at once.
    const off = fallback.onRenew(() => server.setSecureContext({ ...fallback.contextOptions(), ticketKeys: server.getTicketKeys() }));
    server.once('close', off);
    return server;
  }

  #contextFor(name: string): SecureContext {
    const { cert, fallback } = this.o;
    const lower = name.toLowerCase();
    // A `*.api.test` host covers exactly one more label (RFC 6125 §6.4.3), as the client will check it.
    const dot = lower.indexOf('.');
    if (cert.names.has(lower) || (dot > 0 && cert.names.has(`*${lower.slice(dot)}`))) return cert.context;
    this.#report('unknown-sni', `no certificate for "${name}": served the default (localhost) certificate`, name);
    return fallback.context;
  }

  #report(reason: TlsProblemReason, message: string, servername: string | undefined): void {
    // A client hanging up mid-handshake (a browser's speculative connection, a port scan) is counted, not logged.
    let quiet = reason === 'client-reset';
    if (reason === 'unknown-sni' && servername !== undefined) {
      // Counted every time, named in the log once per listener: a client retrying in a loop must not flood the log.
      quiet = this.#loggedNames.has(servername) || this.#loggedNames.size >= LOGGED_NAMES_MAX;
      if (!quiet) this.#loggedNames.add(servername);
    } else if (!quiet) {
      const now = performance.now();
      quiet = now - (this.#loggedAt.get(reason) ?? Number.NEGATIVE_INFINITY) < LOG_EVERY_MS;
      if (!quiet) this.#loggedAt.set(reason, now);
    }
    this.o.onProblem?.({ service: this.o.service, reason, message, ...(servername === undefined ? {} : { servername }), ...(quiet ? { quiet } : {}) });
  }
}
