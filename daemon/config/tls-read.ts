// `x-cmesh.tls: true | false | { hosts: [...], client_auth: none|request|require }` read into a TlsSpec.

import { isIP } from 'node:net';
import { CLIENT_AUTH, type TlsSpec } from '../api/tls.ts';
import type { YNode } from './node.ts';
import { type Ctx, checkKeys, readEnum, readMap, readString, typeError } from './normalize/read.ts';
import type { PathSeg } from './positions.ts';

const TLS_KEYS = new Set(['hosts', 'client_auth']);
/** A DNS name a certificate can carry: labels of letters, digits and dashes; a leading `*.` wildcard allowed. */
const HOST = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** The spec, `false` for `tls: false` (explicitly off, overriding project defaults), undefined after an error. */
export function readTls(ctx: Ctx, node: YNode, path: PathSeg[]): TlsSpec | false | undefined {
  if (node.kind === 'scalar' && typeof node.value === 'boolean') return node.value ? { hosts: [], clientAuth: 'none' } : false;
  const hint = 'e.g. `tls: true` or `tls: {hosts: [api.test], client_auth: require}`';
  if (node.kind !== 'map') return typeError(ctx, node, path, 'true, false or a mapping', hint);
  const map = readMap(ctx, node, path, hint);
  if (map === undefined) return undefined;
  checkKeys(ctx, map, path, { supported: TLS_KEYS });
  const spec: TlsSpec = { hosts: [], clientAuth: 'none' };
  for (const e of map.entries.values()) {
    const p = [...path, e.key];
    if (e.key === 'client_auth') {
      const v = readEnum(ctx, e.value, p, CLIENT_AUTH);
      if (v !== undefined) spec.clientAuth = v;
    } else if (e.key === 'hosts') {
      if (e.value.kind !== 'seq') {
        typeError(ctx, e.value, p, 'a list of host names', 'e.g. `hosts: [api.test, 10.0.0.5]`');
        continue;
      }
      e.value.items.forEach((item, i) => {
        const h = readString(ctx, item, [...p, i]);
        if (h === undefined) return;
        if (isIP(h) === 0 && (h.length > 253 || !HOST.test(h))) {
          ctx.issues.error(item.pos, [...p, i], `invalid TLS host name "${h.slice(0, 60)}"`, 'expected a DNS name (api.test, *.api.test) or an IP address');
        } else if (!spec.hosts.includes(h.toLowerCase())) spec.hosts.push(h.toLowerCase());
      });
    }
  }
  return spec;
}

