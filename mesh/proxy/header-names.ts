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

/** One name the proxy acts on: its two usual spellings, its kind, and its last letter (lower case) to reject early. */
interface Candidate {
  lower: string;
  /** `Content-Length`, `X-Forwarded-For`: how node's own heads, nginx and most HTTP/1.1 peers spell it. */
  title: string;
  kind: number;
  last: number;
}

const titleCase = (lower: string): string => lower.replace(/(^|-)([a-z])/g, (_, sep: string, c: string) => sep + c.toUpperCase());

/**
 * Candidates by length × first letter (lower case). Every slot is filled (an empty bucket is a shared []): an array
 * written only at scattered large indices gets dictionary elements, and then each lookup was a megamorphic keyed
 * load hashing its index (a profile's largest item in the response head's scan).
 */
const NONE: Candidate[] = [];
const buckets: Candidate[][] = Array.from({ length: (longest + 1) * SLOT }, () => NONE);
for (const [name, kind] of KINDS) {
  const i = name.length * SLOT + name.charCodeAt(0);
  if (buckets[i] === NONE) buckets[i] = [];
  buckets[i]!.push({ lower: name, title: titleCase(name), kind, last: name.charCodeAt(name.length - 1) });
}

/** The kind of a header field name, case-insensitively (H_OTHER for every field the proxy does not act on). */
export function headerKind(name: string): number {
  const n = name.length;
  if (n > longest || n === 0) return H_OTHER;
  const bucket = buckets[n * SLOT + (toLower(name.charCodeAt(0)) & (SLOT - 1))]!;
  if (bucket.length === 0) return H_OTHER;
  const last = toLower(name.charCodeAt(n - 1));
  for (let i = 0; i < bucket.length; i++) {
    const c = bucket[i]!;
    if (c.last !== last) continue;
    // The two usual spellings by V8's string equality (a native loop, a few instructions a letter), and only then the
    // case-insensitive loop in JS (tens of instructions a letter: two charCodeAt and a toLower each). Measured: −1.5 k
    // instructions a response head of 7 fields, −0.6 k a request head (bench/proxy-head-instructions.ts, RESULTS "cpugap").
    if (name === c.title || name === c.lower || sameLower(name, c.lower)) return c.kind;
  }
  return H_OTHER;
}

/** Two heads' raw fields (name, value, …) are equal, string by string (the memos of request-head.ts and response-head.ts). */
export function sameFields(a: readonly string[], b: readonly string[]): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}
