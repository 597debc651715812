// The header rules of the proxy: hop-by-hop fields stripped both ways, X-Forwarded-* set, trusted peers. The request
// and response heads of the HTTP path are serialised with these rules in request-head.ts / response-head.ts.

import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { equalsLower } from './ascii-case.ts';
import { XFCC } from '../tls/identity.ts';

/**
 * Connection-specific fields (RFC 9110 §7.6.1, RFC 9112 §9.6) that describe one hop and must not be forwarded.
 * Proxy-Authorization / Proxy-Authenticate are deliberately absent: RFC 9110 §11.7 no longer lists them as hop-by-hop,
 * and a gateway that does not consume proxy credentials itself relays them unchanged.
 * `expect` is answered by the proxy itself (100 Continue) before the body is read, so it ends here too.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
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
export const FORWARDING: ReadonlySet<string> = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'forwarded', 'x-real-ip', XFCC]);

/** What a trusted peer's own X-Forwarded-* lines said, merged as they arrive (both header rewriters share it). */
export interface ForwardedSoFar {
  xff: string | undefined;
  proto: string | undefined;
  host: string | undefined;
}

export function newForwardedSoFar(): ForwardedSoFar {
  return { xff: undefined, proto: undefined, host: undefined };
}

/**
 * Takes one X-Forwarded-For/Proto/Host line of a trusted peer into `acc` and returns true (the line is re-emitted
 * merged, not copied); false for the other forwarding headers, which a trusted peer's request keeps as they are.
 */
export function absorbForwarded(lower: string, value: string, acc: ForwardedSoFar): boolean {
  if (lower === 'x-forwarded-for') {
    // Several X-Forwarded-For lines are one list (RFC 9110 §5.3); joined so the client IP lands at its end.
    acc.xff = acc.xff === undefined ? value : `${acc.xff}, ${value}`;
    return true;
  }
  if (lower === 'x-forwarded-proto') {
    acc.proto ??= value;
    return true;
  }
  if (lower === 'x-forwarded-host') {
    acc.host ??= value;
    return true;
  }
  return false;
}

export interface ForwardingInfo {
  /** Peer address of the client connection, IPv4-mapped IPv6 already unwrapped. */
  clientIp: string;
  /** The peer is one of `trustedProxies`: its X-Forwarded-* are kept and extended instead of replaced. */
  trusted: boolean;
  /** Scheme the client used to reach us (https on `x-cmesh.tls` listeners). */
  proto: 'http' | 'https';
  /** The verified client certificate, Envoy format; a client's own x-forwarded-client-cert is dropped either way. */
  xfcc?: string;
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
 * The header list sent upstream, as `[name, value, name, value, ...]` (WebSocket handshakes). Host is forwarded as received
 * (unless `info.host` overrides it); X-Forwarded-For is appended to only when the peer is trusted, else overwritten.
 */
export function upstreamRequestHeaders(raw: readonly string[], info: ForwardingInfo): string[] {
  const named = connectionTokens(raw);
  const out: string[] = [];
  const fwd = newForwardedSoFar();
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
      if (lower === XFCC || !info.trusted || absorbForwarded(lower, value, fwd)) continue;
    }
    out.push(name, value);
  }
  if (info.host !== undefined) {
    host = info.host;
    out.push('host', host);
  }
  out.push('x-forwarded-for', fwd.xff === undefined ? info.clientIp : `${fwd.xff}, ${info.clientIp}`);
  out.push('x-forwarded-proto', fwd.proto ?? info.proto);
  if (fwd.host !== undefined || host !== undefined) out.push('x-forwarded-host', (fwd.host ?? host)!);
  if (info.via !== undefined) out.push('via', `1.1 ${info.via}`);
  if (info.xfcc !== undefined) out.push(XFCC, info.xfcc);
  if (upgrade !== undefined) out.push('connection', 'upgrade', 'upgrade', upgrade);
  return out;
}

/**
 * Adds the field names a Connection header lists (`keep-alive` and `close` name nothing worth a set). Framing and
 * routing fields are never removed this way: `Connection: content-length` is the classic trick to desynchronise hops.
 */
export function connectionNamed(value: string, into: Set<string> | undefined): Set<string> | undefined {
  // Every response says one of these: compared in place, not lower-cased into a new string.
  if (equalsLower(value, 'keep-alive') || equalsLower(value, 'close')) return into;
  for (const token of value.split(',')) {
    const t = token.trim().toLowerCase();
    if (t === '' || HOP_BY_HOP.has(t) || t === 'content-length' || t === 'host') continue;
    into ??= new Set();
    into.add(t);
  }
  return into;
}

/** Rare path (a Connection header listed extra fields): a serialised head without those fields' lines. */
export function dropNamedLines(head: string, named: ReadonlySet<string>): string {
  const lines = head.split('\r\n');
  let out = `${lines[0]}\r\n`;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line !== '' && !named.has(line.slice(0, line.indexOf(':')).toLowerCase())) out += `${line}\r\n`;
  }
  return out;
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
