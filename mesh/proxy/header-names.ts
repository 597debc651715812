// Header names classified without lowercasing or hashing each one: the proxy scans every field of every request and
// response head, and `name.toLowerCase()` plus a Set lookup made a fresh string and hashed it for each (a profile's
// largest JS cost after the socket writes). A name is looked at only when its length and first letter match a name
// the proxy cares about, and then compared letter by letter, case-insensitively.

import { sameLower, toLower } from './ascii-case.ts';
import { FORWARDING, HOP_BY_HOP } from './forwarded-headers.ts';

/** Any field the proxy passes on untouched. */
export const H_OTHER = 0;
// Kinds 1–5 are the hop-by-hop fields (isHopByHop).
export const H_CONNECTION = 1;
export const H_KEEP_ALIVE = 2;
export const H_TRANSFER_ENCODING = 3;
export const H_EXPECT = 4;
/** The other hop-by-hop fields (proxy-connection, te, trailer, upgrade, http2-settings): dropped. */
export const H_HOP = 5;
export const H_HOST = 6;
export const H_CONTENT_LENGTH = 7;
/** idempotency-key, x-idempotency-key: the request may be replayed. */
export const H_IDEMPOTENCY_KEY = 8;
export const H_X_FORWARDED_FOR = 9;
export const H_X_FORWARDED_PROTO = 10;
export const H_X_FORWARDED_HOST = 11;
/** The other forwarding claims (x-forwarded-port, forwarded, x-real-ip). */
export const H_FORWARDING = 12;

/** Connection, Keep-Alive, Transfer-Encoding, Expect and the rest of HOP_BY_HOP: never forwarded as they came. */
export function isHopByHop(kind: number): boolean {
  return kind >= H_CONNECTION && kind <= H_HOP;
}

const KINDS = new Map<string, number>([
  ['connection', H_CONNECTION],
  ['keep-alive', H_KEEP_ALIVE],
  ['transfer-encoding', H_TRANSFER_ENCODING],
  ['expect', H_EXPECT],
  ['host', H_HOST],
  ['content-length', H_CONTENT_LENGTH],
  ['idempotency-key', H_IDEMPOTENCY_KEY],
  ['x-idempotency-key', H_IDEMPOTENCY_KEY],
  ['x-forwarded-for', H_X_FORWARDED_FOR],
  ['x-forwarded-proto', H_X_FORWARDED_PROTO],
  ['x-forwarded-host', H_X_FORWARDED_HOST],
]);
for (const name of HOP_BY_HOP) if (!KINDS.has(name)) KINDS.set(name, H_HOP);
for (const name of FORWARDING) if (!KINDS.has(name)) KINDS.set(name, H_FORWARDING);

const SLOT = 128;
let longest = 0;
for (const name of KINDS.keys()) longest = Math.max(longest, name.length);
/**
 * Candidates by length × first letter (lower case): [lower-case name, kind, …]. Every slot is filled (an empty bucket
 * is a shared []): an array written only at scattered large indices gets dictionary elements, and then each lookup
 * was a megamorphic keyed load hashing its index (a profile's largest item in the response head's scan).
 */
const NONE: (string | number)[] = [];
const buckets: (string | number)[][] = Array.from({ length: (longest + 1) * SLOT }, () => NONE);
for (const [name, kind] of KINDS) {
  const i = name.length * SLOT + name.charCodeAt(0);
  if (buckets[i] === NONE) buckets[i] = [];
  buckets[i]!.push(name, kind);
}

/** The kind of a header field name, case-insensitively (H_OTHER for every field the proxy does not act on). */
export function headerKind(name: string): number {
  const n = name.length;
  if (n > longest || n === 0) return H_OTHER;
  const bucket = buckets[n * SLOT + (toLower(name.charCodeAt(0)) & (SLOT - 1))]!;
  for (let i = 0; i < bucket.length; i += 2) {
    // Not `name === lower` first: the parser's names are fresh strings, so that was a content compare (V8's StringEqual)
    // on every candidate, and a wasted one for the capitalised names most HTTP/1.1 peers send.
    if (sameLower(name, bucket[i] as string)) return bucket[i + 1] as number;
  }
  return H_OTHER;
}
