// What a matched route does to a request before it goes upstream (path and header edits), and the redirect it may
// answer itself. Pure functions over strings and llhttp's raw header lists.

import type { HeaderEdits, RouteSpec } from '../../daemon/api/traffic-policy.ts';

/** `/admin/users` with prefix `/admin` → `/users`; the bare prefix becomes `/`; a path without it is unchanged. */
export function stripPrefix(path: string, prefix: string): string {
  if (prefix === '/' || !path.startsWith(prefix)) return path;
  const rest = path.slice(prefix.length);
  if (rest === '') return '/';
  // `/administrator` does not lose `/admin`: only a whole segment is stripped.
  if (rest[0] !== '/' && !prefix.endsWith('/')) return path;
  return rest[0] === '/' ? rest : `/${rest}`;
}

export type PathRewrite = (path: string) => string;

/** Compiles strip_prefix then rewrite (in that order) into one function; undefined when the route has neither. */
export function compilePathRewrite(route: Pick<RouteSpec, 'stripPrefix' | 'rewrite'>): PathRewrite | undefined {
  const strip = route.stripPrefix;
  const rw = route.rewrite;
  if (strip === undefined && rw === undefined) return undefined;
  const re = rw === undefined ? undefined : new RegExp(rw.pathRegex);
  return (path) => {
    let p = strip === undefined ? path : stripPrefix(path, strip);
    if (re !== undefined && rw !== undefined) p = p.replace(re, rw.replace);
    // A rewrite may produce an empty or relative path; upstreams need origin form.
    return p.startsWith('/') ? p : `/${p}`;
  };
}

/** Framing and connection fields stay the proxy's business: edits naming them are ignored. */
const PROTECTED = new Set(['content-length', 'transfer-encoding', 'connection', 'upgrade', 'keep-alive', 'host']);

/** Applies set/remove to a raw header list, returning a new list: set replaces every line of that name. */
export function editHeaders(raw: readonly string[], edits: HeaderEdits): string[] {
  const drop = new Set([...edits.remove, ...Object.keys(edits.set)].filter((n) => !PROTECTED.has(n)));
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (drop.has(raw[i]!.toLowerCase())) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  for (const [name, value] of Object.entries(edits.set)) if (!PROTECTED.has(name)) out.push(name, value);
  return out;
}

const REASONS: Record<number, string> = { 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 307: 'Temporary Redirect', 308: 'Permanent Redirect' };

/** The whole redirect answer; `$path` in the target is replaced with the request's path and query. */
export function redirectResponse(redirect: { to: string; status: number }, target: string, close: boolean): string {
  const location = redirect.to.replace('$path', target);
  return (
    `HTTP/1.1 ${redirect.status} ${REASONS[redirect.status] ?? 'Redirect'}\r\nLocation: ${location}\r\nContent-Length: 0\r\n` +
    `X-Cmesh-Route: redirect\r\n${close ? 'Connection: close\r\n' : ''}\r\n`
  );
}
