// Extracts the ring-hash key a request is pinned by (`x-cmesh.hash_key`): a header, a cookie or the client IP.

/** Reads the key from a request's raw header list (`[name, value, ...]` as received) and the client address. */
export type HashKeyExtractor = (rawHeaders: readonly string[], clientIp: string) => string | undefined;

/**
 * Compiles `header:<name>`, `cookie:<name>` or `ip` once per proxy, so the request path does no spec parsing.
 * Returns undefined when no key is configured; an unknown form throws (config validation should have caught it).
 */
export function compileHashKey(spec: string | undefined): HashKeyExtractor | undefined {
  if (spec === undefined || spec === '') return undefined;
  if (spec === 'ip') return (_headers, ip) => ip;
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const name = spec.slice(colon + 1).trim();
  if (colon > 0 && name !== '' && kind === 'header') {
    const lower = name.toLowerCase();
    // Repeated headers hash as one string so the same client always lands on the same key.
    return (raw) => headerValue(raw, lower, ', ');
  }
  if (colon > 0 && name !== '' && kind === 'cookie') return (raw) => cookieValue(headerValue(raw, 'cookie', '; '), name);
  throw new TypeError(`hash key "${spec}" must be header:<name>, cookie:<name> or ip`);
}

/** All values of a header (lower-case `name`) joined by `sep`, as node:http would join them, or undefined. */
function headerValue(raw: readonly string[], name: string, sep: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    if (n.length === name.length && n.toLowerCase() === name) value = value === undefined ? raw[i + 1]! : `${value}${sep}${raw[i + 1]!}`;
  }
  return value;
}

/** The first value of cookie `name` in a Cookie header (RFC 6265 §5.4: `a=1; b=2`), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    const value = pair.slice(eq + 1).trim();
    return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  }
  return undefined;
}
