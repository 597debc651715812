// Route matching: a route's conditions compiled once into a predicate over the parsed request (no allocation per
// request beyond what the query needs). First match wins; a request no route matches is refused with 404.

import type { RouteMatch, ValueMatch } from '../../daemon/api/traffic-policy.ts';
import { normalizePath } from './path-normalize.ts';

/** What matching reads from a request: the raw header list is llhttp's [name, value, name, value, …]. */
export interface RequestView {
  method: string;
  /** Path without the query, normalized (path-normalize.ts: unreserved escapes decoded, dot segments removed). */
  path: string;
  /** The query without its `?` ('' when none). */
  query: string;
  rawHeaders: readonly string[];
}

type ValueTest = (value: string | undefined) => boolean;

function valueTest(m: ValueMatch): ValueTest {
  if ('exact' in m) return (v) => v === m.exact;
  if ('regex' in m) {
    const re = new RegExp(m.regex);
    return (v) => v !== undefined && re.test(v);
  }
  return (v) => v !== undefined;
}

/** First value of a header (names compared case-insensitively); several lines are joined as a list would be. */
export function headerValue(raw: readonly string[], lowerName: string): string | undefined {
  let out: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== lowerName.length || name.toLowerCase() !== lowerName) continue;
    out = out === undefined ? raw[i + 1]! : `${out}, ${raw[i + 1]!}`;
  }
  return out;
}

/** A query parameter's first value, decoded (`+` as space); '' for `?flag`. Undefined when absent. */
export function queryValue(query: string, name: string): string | undefined {
  if (query === '') return undefined;
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const k = eq === -1 ? part : part.slice(0, eq);
    if (decode(k) !== name) continue;
    return eq === -1 ? '' : decode(part.slice(eq + 1));
  }
  return undefined;
}

function decode(s: string): string {
  const plus = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

export type RoutePredicate = (r: RequestView) => boolean;

/** Compiles a route's match; cheap checks (method, path) run before headers, query and regexes. */
export function compileMatch(m: RouteMatch): RoutePredicate {
  const tests: RoutePredicate[] = [];
  if (m.methods !== undefined) {
    const methods = new Set(m.methods);
    tests.push((r) => methods.has(r.method));
  }
  // The configured paths are normalized like the requests', so `/%7Euser/` in a file still matches.
  if (m.path !== undefined) {
    const path = normalizePath(m.path);
    tests.push((r) => r.path === path);
  }
  if (m.pathPrefix !== undefined) {
    const prefix = normalizePath(m.pathPrefix);
    tests.push((r) => r.path.startsWith(prefix));
  }
  if (m.pathRegex !== undefined) {
    const re = new RegExp(m.pathRegex);
    tests.push((r) => re.test(r.path));
  }
  for (const [name, cond] of Object.entries(m.headers ?? {})) {
    const t = valueTest(cond);
    tests.push((r) => t(headerValue(r.rawHeaders, name)));
  }
  for (const [name, cond] of Object.entries(m.query ?? {})) {
    const t = valueTest(cond);
    tests.push((r) => t(queryValue(r.query, name)));
  }
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0]!;
  return (r) => {
    for (const t of tests) if (!t(r)) return false;
    return true;
  };
}

/** Splits a request target (origin form) into path and query. */
export function splitTarget(target: string): { path: string; query: string } {
  const q = target.indexOf('?');
  return q === -1 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q + 1) };
}
