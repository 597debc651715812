// Checks what llhttp leaves to us before a request may be forwarded: the request target form and Host.

export interface RequestTarget {
  /** Origin-form path and query, as sent upstream. */
  path: string;
  /** Authority of an absolute-form target: it replaces Host (RFC 9112 §3.2.2). */
  host?: string;
}

/**
 * The target to forward, or a reason for 400. Origin-form passes as is; absolute-form `http(s)://authority/path` is
 * reduced to origin-form without normalising the path (a proxy that rewrites `/a/../b` differently from the app
 * opens path-confusion bugs); authority-form, asterisk-form and anything else is refused.
 */
export function parseTarget(url: string | undefined): RequestTarget | string {
  if (url === undefined || url === '') return 'empty request target';
  if (url.charCodeAt(0) === 47 /* / */) return { path: url };
  const scheme = /^https?:\/\//i.exec(url);
  if (scheme === null) return url === '*' ? 'asterisk-form (OPTIONS *) is not forwarded' : 'request target must be a path or an absolute http URL';
  const rest = url.slice(scheme[0].length);
  let end = rest.length;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (c === '/' || c === '?') {
      end = i;
      break;
    }
  }
  const authority = rest.slice(0, end);
  // Userinfo is deprecated in http URIs (RFC 9110 §4.2.4) and a classic way to make proxies and apps disagree on host.
  if (authority === '' || authority.includes('@') || !/^[A-Za-z0-9.\-_~!$&'()*+,;=:[\]%]+$/.test(authority)) {
    return 'invalid authority in absolute-form request target';
  }
  const path = rest.slice(end);
  return { path: path === '' ? '/' : path.startsWith('?') ? `/${path}` : path, host: authority };
}

/** RFC 9112 §3.2: more than one Host line is a 400 (llhttp accepts it). */
export function duplicateHost(raw: readonly string[]): boolean {
  return hostCount(raw) > 1;
}

/** Host lines in a raw header list (an HTTP/1.1 request needs exactly one). */
export function hostCount(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') n++;
  }
  return n;
}
