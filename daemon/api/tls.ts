// TLS on published ports (`x-cmesh.tls`) and the local CA's control routes: the contract the config loader, the
// daemon, the mesh and the CLI share.

import { z } from 'zod';

export const CLIENT_AUTH = ['none', 'request', 'require'] as const;
export type ClientAuth = (typeof CLIENT_AUTH)[number];

/** `x-cmesh.tls: true | { hosts, client_auth }`: the service's published HTTP ports are served over TLS. */
export interface TlsSpec {
  /** Extra names (DNS or IP) on the service's certificate, besides localhost, 127.0.0.1, ::1 and <service>.localhost. */
  hosts: string[];
  /** `require`: only client certificates of the cmesh CA; `request`: asked for, named upstream when valid. */
  clientAuth: ClientAuth;
}

export const TlsSpecSchema = z.strictObject({
  hosts: z.array(z.string().min(1).max(253)),
  clientAuth: z.enum(CLIENT_AUTH),
});

/** POST /v1/tls/ca → where the CA certificate is (the daemon creates the CA on first use). */
export interface CaInfo {
  /** The CA certificate (PEM), the file to trust. */
  path: string;
  /** The CA was created by this call. */
  created: boolean;
  /** SHA-256 fingerprint, colon-separated hex as browsers show it. */
  fingerprint: string;
  notAfter: string;
}

/** POST /v1/tls/certs: a client certificate for mTLS, written under CMESH_HOME/certs/. */
export interface CertIssueRequest {
  name: string;
}

/** Client certificate names become file names and the certificate's CN: a conservative alphabet. */
export const CERT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface CertIssueResponse {
  cert: string;
  key: string;
  notAfter: string;
}

/** POST /v1/tls/renew → how many server certificates were renewed now. */
export interface CertRenewResponse {
  renewed: number;
}
