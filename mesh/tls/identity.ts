// What the proxy tells upstream about a TLS client: the scheme, and for a client certificate the cmesh CA verified,
// an Envoy-format `x-forwarded-client-cert` value (Hash = SHA-256 of the DER certificate, Subject in RFC 2253 order).

import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';

export const XFCC = 'x-forwarded-client-cert';

export interface ClientIdentity {
  proto: 'http' | 'https';
  /** The `x-forwarded-client-cert` value, only for a certificate that verified against the CA. */
  xfcc?: string;
  /** The verified certificate's subject, for the access log. */
  subject?: string;
}

const PLAIN: ClientIdentity = { proto: 'http' };
const ANONYMOUS: ClientIdentity = { proto: 'https' };

/** Quotes a value the way Envoy does when it holds a separator (`,`, `;`, `=`) or a quote. */
function quoted(value: string): string {
  return /[,;="]/.test(value) ? `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"` : value;
}

/** RFC 2253 order (most specific first): `CN=web,O=acme`. */
export function subjectString(subject: PeerCertificate['subject']): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(subject ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) parts.push(`${k}=${String(one).replaceAll(/([,+"\\<>;])/g, '\\$1')}`);
  }
  return parts.reverse().join(',');
}

export function clientIdentity(socket: Socket): ClientIdentity {
  const tls = socket as TLSSocket;
  if (tls.encrypted !== true) return PLAIN;
  if (!tls.authorized) return ANONYMOUS;
  const peer = tls.getPeerCertificate();
  if (peer?.raw === undefined) return ANONYMOUS;
  const hash = createHash('sha256').update(peer.raw).digest('hex');
  const subject = subjectString(peer.subject);
  return { proto: 'https', xfcc: `Hash=${hash};Subject=${quoted(subject)}`, subject };
}
