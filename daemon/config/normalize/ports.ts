// `ports:` short ("127.0.0.1:8080-8081:80-81/udp") and long syntax → PortMapping[], with ranges expanded.

import type { PortMapping } from '../../api/project.ts';
import { isMap, type YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { PORT_KEYS } from '../schema.ts';
import { checkKeys, type Ctx, readEnum, readString, typeError } from './read.ts';

const HINT = 'expected a port like "8080:80", "127.0.0.1:8080:80", "80/udp" or "8000-8001:80-81"';

type Parsed = { mappings: PortMapping[] } | { error: string };

function parseRange(s: string): [number, number] | undefined {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s);
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a < 1 || b > 65535 || b < a) return undefined;
  return [a, b];
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:.]+$/;

/** Parses one short-syntax spec; exported for tests. */
export function parsePortSpec(spec: string): Parsed {
  let rest = spec.trim();
  let protocol: 'tcp' | 'udp' = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash !== -1) {
    const proto = rest.slice(slash + 1).toLowerCase();
    if (proto !== 'tcp' && proto !== 'udp') return { error: `unsupported protocol "${proto}" (tcp or udp)` };
    protocol = proto;
    rest = rest.slice(0, slash);
  }
  let hostIp: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']:');
    if (close === -1) return { error: 'unterminated IPv6 address' };
    hostIp = rest.slice(1, close);
    if (!IPV6.test(hostIp) || !hostIp.includes(':')) return { error: `invalid IPv6 address "${hostIp}"` };
    rest = rest.slice(close + 2);
  }
  const parts = rest.split(':');
  if (parts.length > 3 || (hostIp !== undefined && parts.length > 2)) return { error: 'too many ":" (bracket IPv6 addresses: "[::1]:8080:80")' };
  if (parts.length === 3) {
    hostIp = parts.shift();
    if (hostIp === undefined || !IPV4.test(hostIp)) return { error: `invalid host IP "${hostIp ?? ''}"` };
  }
  const targetText = parts.pop() ?? '';
  const publishedText = parts.pop();
  const target = parseRange(targetText);
  if (target === undefined) return { error: `invalid container port "${targetText}"` };
  const count = target[1] - target[0] + 1;
  let published: [number, number] | undefined;
  if (publishedText !== undefined && publishedText !== '') {
    published = parseRange(publishedText);
    if (published === undefined) return { error: `invalid host port "${publishedText}"` };
    const pubCount = published[1] - published[0] + 1;
    if (count === 1 && pubCount > 1) {
      // Compose: "any host port in the range" for the one container port; the proxy takes the first free one at up.
      const m: PortMapping = { target: target[0], protocol, published: published[0], publishedEnd: published[1] };
      if (hostIp !== undefined) m.hostIp = hostIp;
      return { mappings: [m] };
    }
    if (pubCount !== count) {
      return { error: `host range ${publishedText} and container range ${targetText} differ in size` };
    }
  }
  const mappings: PortMapping[] = [];
  for (let i = 0; i < count; i++) {
    const m: PortMapping = { target: target[0] + i, protocol };
    if (published !== undefined) m.published = published[0] + i;
    if (hostIp !== undefined) m.hostIp = hostIp;
    mappings.push(m);
  }
  return { mappings };
}

function portNumber(ctx: Ctx, node: YNode, path: PathSeg[]): number | undefined {
  const raw = node.kind === 'scalar' && (typeof node.value === 'number' || typeof node.value === 'string') ? String(node.value) : undefined;
  if (raw === undefined) return typeError(ctx, node, path, 'a port number', HINT);
  const r = parseRange(raw);
  if (r === undefined || r[0] !== r[1]) {
    ctx.issues.error(node.pos, path, `invalid port "${raw}"`, 'expected a port number between 1 and 65535');
    return undefined;
  }
  return r[0];
}

function parseLong(ctx: Ctx, node: YNode, path: PathSeg[]): PortMapping[] {
  if (!isMap(node)) return [];
  checkKeys(ctx, node, path, { supported: PORT_KEYS });
  const targetNode = node.entries.get('target')?.value;
  if (targetNode === undefined) {
    ctx.issues.error(node.pos, path, 'port is missing "target"', 'long syntax needs at least `target: 80`');
    return [];
  }
  const target = portNumber(ctx, targetNode, [...path, 'target']);
  const m: PortMapping = { target: target ?? 0, protocol: 'tcp' };
  for (const e of node.entries.values()) {
    const p = [...path, e.key];
    if (e.key === 'published' && !(e.value.kind === 'scalar' && e.value.value === null)) {
      const r = e.value.kind === 'scalar' && typeof e.value.value === 'string' ? parseRange(e.value.value) : undefined;
      const v = r !== undefined && r[0] !== r[1] ? r[0] : portNumber(ctx, e.value, p);
      if (v !== undefined) m.published = v;
      if (r !== undefined && r[0] !== r[1]) m.publishedEnd = r[1];
    } else if (e.key === 'host_ip') {
      const v = readString(ctx, e.value, p);
      if (v !== undefined && !IPV4.test(v) && !(IPV6.test(v) && v.includes(':'))) ctx.issues.error(e.value.pos, p, `invalid host IP "${v}"`);
      else if (v !== undefined) m.hostIp = v;
    } else if (e.key === 'protocol') {
      const v = readEnum(ctx, e.value, p, ['tcp', 'udp'] as const);
      if (v !== undefined) m.protocol = v;
    } else if (e.key === 'mode') {
      // Only the swarm target reads it (Swarm's ingress publishing when asked); locally every port is the proxy's.
      if (readEnum(ctx, e.value, p, ['host', 'ingress'] as const) === 'ingress') m.mode = 'ingress';
    } else if (e.key === 'name' || e.key === 'app_protocol') {
      const v = readString(ctx, e.value, p);
      if (v !== undefined) m[e.key === 'name' ? 'name' : 'appProtocol'] = v;
    }
  }
  return target === undefined ? [] : [m];
}

export function readPorts(ctx: Ctx, node: YNode, path: PathSeg[]): PortMapping[] {
  if (node.kind !== 'seq') {
    if (!(node.kind === 'scalar' && node.value === null)) typeError(ctx, node, path, 'a list of ports', HINT);
    return [];
  }
  const out: PortMapping[] = [];
  node.items.forEach((item, i) => {
    const p = [...path, i];
    if (item.kind === 'map') {
      out.push(...parseLong(ctx, item, p));
      return;
    }
    if (item.kind !== 'scalar' || (typeof item.value !== 'string' && typeof item.value !== 'number')) {
      typeError(ctx, item, p, 'a port string or mapping', HINT);
      return;
    }
    const parsed = parsePortSpec(String(item.value));
    if ('error' in parsed) {
      ctx.issues.error(item.pos, p, `invalid port "${String(item.value).slice(0, 60)}": ${parsed.error}`, HINT);
      return;
    }
    out.push(...parsed.mappings);
  });
  return out;
}
