// The path routes match on, normalized as Envoy (normalize_path) and Traefik do, so an escape or a dot segment cannot
// steer a request past the route its plain spelling would take: percent-escapes of unreserved characters decoded
// (`/%61dmin` is `/admin`), other escapes kept with upper-case hex, then dot segments removed (RFC 3986 §6.2.2, §5.2.4).
// `%2F` stays encoded (Envoy's default, KEEP_UNCHANGED): it is part of a segment, never a separator, so
// `/admin%2Fusers` does not match `path_prefix: /admin/`, and the replica gets it as it was sent.

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const HEX = /^[0-9A-Fa-f]{2}$/;

/** The normalized path; the same string (no allocation) when there is nothing to do, the usual case. */
export function normalizePath(path: string): string {
  const escaped = path.includes('%');
  if (!escaped && !hasDotSegment(path)) return path;
  const decoded = escaped ? decodeUnreserved(path) : path;
  return hasDotSegment(decoded) ? removeDotSegments(decoded) : decoded;
}

function decodeUnreserved(path: string): string {
  let out = '';
  let from = 0;
  for (let i = path.indexOf('%'); i !== -1; i = path.indexOf('%', i + 1)) {
    const hex = path.slice(i + 1, i + 3);
    // A stray `%` is left as it is (the replica decides what it means).
    if (!HEX.test(hex)) continue;
    const ch = String.fromCharCode(Number.parseInt(hex, 16));
    out += path.slice(from, i) + (UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`);
    from = i + 3;
    i += 2;
  }
  return out + path.slice(from);
}

/** A `.` or `..` segment anywhere (`/./`, `/../`, or at the end). */
function hasDotSegment(path: string): boolean {
  // The cheap test first: nearly every path has no `/.` at all.
  return path.includes('/.') && /(^|\/)\.\.?(\/|$)/.test(path);
}

function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segments = path.split('/');
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    const last = i === segments.length - 1;
    if (s === '.' || s === '..') {
      // `..` never climbs above the root; a trailing dot segment leaves a directory path (`/a/b/..` → `/a/`).
      if (s === '..' && out.length > 1) out.pop();
      if (last) out.push('');
      continue;
    }
    out.push(s);
  }
  const joined = out.join('/');
  return joined.startsWith('/') ? joined : `/${joined}`;
}
