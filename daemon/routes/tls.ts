// POST /v1/tls/{ca,certs,renew}: the local CA (`cmesh ca path`, `cmesh cert issue`, `cmesh cert renew`).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { daemonActionSchemas } from '../api/control-schema.ts';
import { CmeshError } from '../api/errors.ts';
import type { CaInfo, CertIssueResponse, CertRenewResponse } from '../api/tls.ts';
import { readJson, sendJson } from './http.ts';
import { parseBody } from './validate.ts';

export interface TlsRoutes {
  caInfo(): Promise<CaInfo>;
  issueClient(name: string): Promise<CertIssueResponse>;
  renew(): Promise<CertRenewResponse>;
}

/** True when `path` was a TLS route and has been answered. */
export async function serveTls(req: IncomingMessage, res: ServerResponse, path: string, tls: TlsRoutes | undefined): Promise<boolean> {
  if (path !== '/v1/tls/ca' && path !== '/v1/tls/certs' && path !== '/v1/tls/renew') return false;
  if (tls === undefined) throw new CmeshError('CMESH_E_USAGE', 'this daemon runs without a mesh: it has no local CA');
  if (path === '/v1/tls/ca') sendJson(res, 200, await tls.caInfo());
  else if (path === '/v1/tls/renew') sendJson(res, 200, await tls.renew());
  else sendJson(res, 200, await tls.issueClient(parseBody(daemonActionSchemas['tls/certs'], await readJson(req), 'tls/certs').name));
  return true;
}
