// Rewrites headers on their way through the proxy: strips hop-by-hop fields both ways and sets X-Forwarded-*.
// Works on flat raw header lists so case, order and duplicates of everything else pass through untouched.

import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * Connection-specific fields (RFC 9110 §7.6.1, RFC 9112 §9.6) that describe one hop and must not be forwarded.
 * Proxy-Authorization / Proxy-Authenticate are deliberately absent: RFC 9110 §11.7 no longer lists them as hop-by-hop,
 * and a gateway that does not consume proxy credentials itself relays them unchanged.
 * `expect` is answered by node's server (100 Continue) and undici refuses to send it, so it ends here too.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'expect',
]);

/** Client-supplied forwarding claims, only believed from a trusted peer (otherwise they are spoofable). */
const FORWARDING = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'forwarded', 'x-real-ip']);

export interface ForwardingInfo {
  /** Peer address of the client connection, IPv4-mapped IPv6 already unwrapped. */
  clientIp: string;
  /** The peer is one of `trustedProxies`: its X-Forwarded-* are kept and extended instead of replaced. */
  trusted: boolean;
  /** Scheme the client used to reach us; cmesh listeners speak plain HTTP. */
  proto: 'http' | 'https';
  /** Keep Upgrade and send `Connection: upgrade` (WebSocket handshakes). */
  upgrade?: boolean;
  /** Replaces the Host header (absolute-form request targets carry the authority, RFC 9112 §3.2.2). */
  host?: string;
  /** Appended as `Via: 1.1 <via>` when set. */
  via?: string;
}

/** Lower-cased field names listed in Connection headers: those are hop-by-hop for this message too. */
function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1]!.split(',')) {
      const t = token.trim().toLowerCase();
      if (t === '') continue;
      tokens ??= new Set();
      tokens.add(t);
    }
  }
  return tokens;
}

/**
 * The header list sent upstream, as `[name, value, name, value, ...]` for undici. Host is forwarded as received
 * (unless `info.host` overrides it); X-Forwarded-For is appended to only when the peer is trusted, else overwritten.
 */
export function upstreamRequestHeaders(raw: readonly string[], info: ForwardingInfo): string[] {
  const named = connectionTokens(raw);
  const out: string[] = [];
  let xff: string | undefined;
  let xfProto: string | undefined;
  let xfHost: string | undefined;
  let host: string | undefined;
  let upgrade: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named?.has(lower)) {
      if (lower === 'upgrade' && info.upgrade) upgrade = value;
      continue;
    }
    if (lower === 'host') {
      host = value;
      if (info.host !== undefined) continue;
    } else if (FORWARDING.has(lower)) {
      if (!info.trusted) continue;
      // Several X-Forwarded-For lines are one list (RFC 9110 §5.3); joined so the client IP lands at its end.
      if (lower === 'x-forwarded-for') {
        xff = xff === undefined ? value : `${xff}, ${value}`;
        continue;
      }
      if (lower === 'x-forwarded-proto') {
        xfProto ??= value;
        continue;
      }
      if (lower === 'x-forwarded-host') {
        xfHost ??= value;
        continue;
      }
    }
    out.push(name, value);
  }
  if (info.host !== undefined) {
    host = info.host;
    out.push('host', host);
  }
  out.push('x-forwarded-for', xff === undefined ? info.clientIp : `${xff}, ${info.clientIp}`);
  out.push('x-forwarded-proto', xfProto ?? info.proto);
  if (xfHost !== undefined || host !== undefined) out.push('x-forwarded-host', (xfHost ?? host)!);
  if (info.via !== undefined) out.push('via', `1.1 ${info.via}`);
  if (upgrade !== undefined) out.push('connection', 'upgrade', 'upgrade', upgrade);
  return out;
}

/**
 * The response header list for node's `res.writeHead(status, msg, list)`: hop-by-hop fields and fields named in
 * Connection removed (node sets its own framing and keep-alive for the client connection). `keepUpgrade` is for 101s.
 */
export function clientResponseHeaders(raw: readonly Buffer[], keepUpgrade = false): string[] {
  const strings: string[] = new Array(raw.length);
  let hasConnection = false;
  for (let i = 0; i < raw.length; i++) {
    const s = raw[i]!.toString('latin1');
    strings[i] = s;
    if ((i & 1) === 0 && s.length === 10 && s.toLowerCase() === 'connection') hasConnection = true;
  }
  const named = hasConnection ? connectionTokens(strings) : undefined;
  let out: string[] | undefined;
  for (let i = 0; i < strings.length; i += 2) {
    const lower = strings[i]!.toLowerCase();
    const drop = (HOP_BY_HOP.has(lower) || named?.has(lower)) && !(keepUpgrade && (lower === 'upgrade' || lower === 'connection'));
    // Copy-on-first-drop: most responses carry nothing to strip but `connection`/`keep-alive`.
    if (drop) out ??= strings.slice(0, i);
    else if (out) out.push(strings[i]!, strings[i + 1]!);
  }
  return out ?? strings;
}

/** Unwraps `::ffff:1.2.3.4` so IPv4 clients on dual-stack sockets log and match as IPv4. */
export function normalizeIp(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/** A set of trusted peers: plain addresses or CIDR ranges, IPv4 and IPv6. Invalid entries throw at construction. */
export class TrustedProxies {
  readonly #list = new BlockList();
  readonly #empty: boolean;

  constructor(entries: readonly string[] = []) {
    this.#empty = entries.length === 0;
    for (const entry of entries) {
      const [addr = '', bits] = entry.split('/');
      const type = isIPv4(addr) ? 'ipv4' : isIPv6(addr) ? 'ipv6' : undefined;
      const prefix = bits === undefined ? undefined : Number(bits);
      const max = type === 'ipv4' ? 32 : 128;
      if (type === undefined || (prefix !== undefined && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= max))) {
        throw new TypeError(`trusted proxy "${entry}" is not an IP address or CIDR range`);
      }
      if (prefix === undefined) this.#list.addAddress(addr, type);
      else this.#list.addSubnet(addr, prefix, type);
    }
  }

  has(ip: string): boolean {
    if (this.#empty || ip === '') return false;
    return this.#list.check(ip, isIPv4(ip) ? 'ipv4' : 'ipv6');
  }
}
