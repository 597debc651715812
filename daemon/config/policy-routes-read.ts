// x-cmesh `routes:`: an ordered route table (first match wins), each route a match plus actions. Targets are
// remembered with their positions so the document pass can check them against the project's services.

import type { SourcePosition } from '../api/errors.ts';
import { FORBIDDEN_KEYS } from '../api/schema-kit.ts';
import { REDIRECT_STATUSES, type HeaderEdits, type RouteMatch, type RouteSpec, type RouteTarget, type ValueMatch } from '../api/traffic-policy.ts';
import { get, type YMap, type YNode } from './node.ts';
import { type Ctx, checkKeys, readBool, readInt, readMap, readNumber, readString, readStringList, typeError } from './normalize/read.ts';
import { readFaults, readRateLimit, readRetry, readTimeoutOverrides } from './policy-limits-read.ts';
import type { PathSeg } from './positions.ts';

const ROUTE_KEYS = new Set(['match', 'to', 'strip_prefix', 'rewrite', 'request_headers', 'response_headers', 'redirect', 'rate_limit', 'retry', 'timeouts', 'faults']);
const MATCH_KEYS = new Set(['path_prefix', 'path', 'path_regex', 'method', 'headers', 'query']);
const TARGET = /^([A-Za-z0-9][A-Za-z0-9_.-]*)(?::(\d{1,5}))?$/;
const METHOD = /^[A-Z]+$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
/** Regexes come from the user's own file; the cap only keeps a pasted blob from becoming a pattern. */
const MAX_REGEX = 1000;

/** Where each target was written, for the project-level check (targets must be services of the project). */
export const targetPositions = new WeakMap<RouteTarget, { pos: SourcePosition; path: PathSeg[] }>();

export function readRoutes(ctx: Ctx, node: YNode, path: PathSeg[]): RouteSpec[] | undefined {
  if (node.kind !== 'seq') return typeError(ctx, node, path, 'a list of routes', 'e.g. `routes: [{match: {path_prefix: /api/}, to: {api: 100}}]`');
  const out: RouteSpec[] = [];
  node.items.forEach((item, i) => {
    const r = readRoute(ctx, item, [...path, i]);
    if (r !== undefined) out.push(r);
  });
  return out;
}

function readRoute(ctx: Ctx, node: YNode, path: PathSeg[]): RouteSpec | undefined {
  const map = readMap(ctx, node, path, 'a route is a mapping with `match` and `to` (or `redirect`)');
  if (map === undefined) return undefined;
  checkKeys(ctx, map, path, { supported: ROUTE_KEYS });
  const m = get(map, 'match');
  const route: RouteSpec = { match: m === undefined ? {} : (readMatch(ctx, m, [...path, 'match']) ?? {}), to: [] };
  const to = get(map, 'to');
  if (to !== undefined) route.to = readTargets(ctx, to, [...path, 'to']);
  for (const e of map.entries.values()) {
    const p = [...path, e.key];
    const v = e.value;
    if (e.key === 'strip_prefix') {
      const s = readPathString(ctx, v, p);
      if (s !== undefined) route.stripPrefix = s.replace(/\/+$/, '') || '/';
    } else if (e.key === 'rewrite') {
      const rw = readRewrite(ctx, v, p);
      if (rw !== undefined) route.rewrite = rw;
    } else if (e.key === 'request_headers' || e.key === 'response_headers') {
      const h = readHeaderEdits(ctx, v, p);
      if (h !== undefined) route[e.key === 'request_headers' ? 'requestHeaders' : 'responseHeaders'] = h;
    } else if (e.key === 'redirect') {
      const r = readRedirect(ctx, v, p);
      if (r !== undefined) route.redirect = r;
    } else if (e.key === 'rate_limit') {
      const r = readRateLimit(ctx, v, p);
      if (r !== undefined) route.rateLimit = r;
    } else if (e.key === 'retry') {
      const r = readRetry(ctx, v, p);
      if (r !== undefined) route.retry = r;
    } else if (e.key === 'timeouts') {
      const t = readTimeoutOverrides(ctx, v, p);
      if (t !== undefined) route.timeouts = t;
    } else if (e.key === 'faults') {
      const f = readFaults(ctx, v, p);
      if (f !== undefined) route.faults = f;
    }
  }
  if (to !== undefined && map.entries.has('redirect')) {
    ctx.issues.error(map.pos, path, 'a route has either `to` or `redirect`, not both', 'a redirect answers the client itself; drop one of them');
  } else if (to === undefined && route.redirect === undefined && !map.entries.has('redirect')) {
    ctx.issues.error(map.pos, path, 'a route needs `to` (where requests go) or `redirect`', 'e.g. `to: {web: 100}`');
  } else if (to !== undefined && route.to.length > 0 && route.to.every((t) => t.weight === 0)) {
    ctx.issues.error(to.pos, [...path, 'to'], 'every target of this route has weight 0', 'give at least one target a positive weight');
  }
  return route;
}

function readMatch(ctx: Ctx, node: YNode, path: PathSeg[]): RouteMatch | undefined {
  const map = readMap(ctx, node, path, 'e.g. `match: {path_prefix: /api/, method: GET}`');
  if (map === undefined) return undefined;
  checkKeys(ctx, map, path, { supported: MATCH_KEYS });
  const m: RouteMatch = {};
  for (const e of map.entries.values()) {
    const p = [...path, e.key];
    const v = e.value;
    if (e.key === 'path_prefix' || e.key === 'path') {
      const s = readPathString(ctx, v, p);
      if (s !== undefined) m[e.key === 'path' ? 'path' : 'pathPrefix'] = s;
    } else if (e.key === 'path_regex') {
      const s = readRegex(ctx, v, p);
      if (s !== undefined) m.pathRegex = s;
    } else if (e.key === 'method') {
      const list = readStringList(ctx, v, p, { allowString: true, coerce: false });
      const methods = list?.map((s) => s.toUpperCase());
      const bad = methods?.find((s) => !METHOD.test(s));
      if (bad !== undefined) ctx.issues.error(v.pos, p, `invalid method "${bad.slice(0, 40)}"`, 'e.g. `method: GET` or `method: [GET, HEAD]`');
      else if (methods !== undefined && methods.length > 0) m.methods = methods;
    } else if (e.key === 'headers' || e.key === 'query') {
      const conds = readConditions(ctx, v, p, e.key === 'headers');
      if (conds !== undefined) m[e.key] = conds;
    }
  }
  return m;
}

function readConditions(ctx: Ctx, node: YNode, path: PathSeg[], headers: boolean): Record<string, ValueMatch> | undefined {
  const map = readMap(ctx, node, path, 'name → "value", {regex: "…"} or {present: true}');
  if (map === undefined) return undefined;
  const out: Record<string, ValueMatch> = Object.create(null);
  for (const e of map.entries.values()) {
    const p = [...path, e.key];
    if ((headers && !HEADER_NAME.test(e.key)) || FORBIDDEN_KEYS.has(e.key)) {
      ctx.issues.error(e.keyPos, p, `invalid ${headers ? 'header' : 'parameter'} name "${e.key.slice(0, 60)}"`);
      continue;
    }
    const c = readCondition(ctx, e.value, p);
    if (c !== undefined) out[headers ? e.key.toLowerCase() : e.key] = c;
  }
  return { ...out };
}

function readCondition(ctx: Ctx, node: YNode, path: PathSeg[]): ValueMatch | undefined {
  if (node.kind === 'scalar' && node.value !== null && typeof node.value !== 'boolean') return { exact: String(node.value) };
  if (node.kind !== 'map') return typeError(ctx, node, path, 'a string, {regex: "…"} or {present: true}');
  checkKeys(ctx, node, path, { supported: new Set(['regex', 'present']) });
  const re = get(node, 'regex');
  const present = get(node, 'present');
  if ((re === undefined) === (present === undefined)) {
    ctx.issues.error(node.pos, path, 'a condition has exactly one of `regex` or `present`', 'e.g. `{regex: "^v[0-9]+$"}` or `{present: true}`');
    return undefined;
  }
  if (re !== undefined) {
    const s = readRegex(ctx, re, [...path, 'regex']);
    return s === undefined ? undefined : { regex: s };
  }
  const b = readBool(ctx, present!, [...path, 'present']);
  if (b === false) ctx.issues.error(present!.pos, [...path, 'present'], '`present: false` is not supported', 'only `present: true` (the header or parameter is there) can be matched');
  return b === true ? { present: true } : undefined;
}

function readTargets(ctx: Ctx, node: YNode, path: PathSeg[]): RouteTarget[] {
  const map = readMap(ctx, node, path, 'service → relative weight, e.g. `to: {web: 90, web-canary: 10}`');
  if (map === undefined) return [];
  const out: RouteTarget[] = [];
  for (const e of map.entries.values()) {
    const p = [...path, e.key];
    const m = TARGET.exec(e.key);
    const port = m?.[2] === undefined ? undefined : Number(m[2]);
    if (m === null || (port !== undefined && (port < 1 || port > 65535))) {
      ctx.issues.error(e.keyPos, p, `invalid route target "${e.key.slice(0, 60)}"`, 'expected a service name, or "service:port" with a container port');
      continue;
    }
    const weight = readNumber(ctx, e.value, p, { min: 0, hint: 'a relative weight, e.g. 90' });
    if (weight === undefined) continue;
    const t: RouteTarget = { service: m[1]!, weight };
    if (port !== undefined) t.port = port;
    targetPositions.set(t, { pos: e.keyPos, path: p });
    out.push(t);
  }
  return out;
}

function readPathString(ctx: Ctx, node: YNode, path: PathSeg[]): string | undefined {
  const s = readString(ctx, node, path);
  if (s === undefined) return undefined;
  if (!s.startsWith('/')) {
    ctx.issues.error(node.pos, path, `"${s.slice(0, 60)}" must start with "/"`);
    return undefined;
  }
  return s;
}

function readRegex(ctx: Ctx, node: YNode, path: PathSeg[]): string | undefined {
  const s = readString(ctx, node, path);
  if (s === undefined) return undefined;
  if (s.length > MAX_REGEX) {
    ctx.issues.error(node.pos, path, `regex is longer than ${MAX_REGEX} characters`);
    return undefined;
  }
  try {
    new RegExp(s);
  } catch (err) {
    ctx.issues.error(node.pos, path, `invalid regex: ${(err as Error).message}`, 'JavaScript regular expression syntax');
    return undefined;
  }
  return s;
}

function readRewrite(ctx: Ctx, node: YNode, path: PathSeg[]): RouteSpec['rewrite'] {
  const map = readMap(ctx, node, path, 'e.g. `rewrite: {path_regex: "^/v1/(.*)", replace: "/api/$1"}`');
  if (map === undefined) return undefined;
  checkKeys(ctx, map, path, { supported: new Set(['path_regex', 'replace']) });
  const re = get(map, 'path_regex');
  const rep = get(map, 'replace');
  if (re === undefined || rep === undefined) {
    ctx.issues.error(map.pos, path, 'rewrite needs `path_regex` and `replace`');
    return undefined;
  }
  const pathRegex = readRegex(ctx, re, [...path, 'path_regex']);
  const replace = readString(ctx, rep, [...path, 'replace']);
  return pathRegex === undefined || replace === undefined ? undefined : { pathRegex, replace };
}

function readHeaderEdits(ctx: Ctx, node: YNode, path: PathSeg[]): HeaderEdits | undefined {
  const map = readMap(ctx, node, path, 'e.g. `request_headers: {set: {x-env: prod}, remove: [x-debug]}`');
  if (map === undefined) return undefined;
  checkKeys(ctx, map, path, { supported: new Set(['set', 'remove']) });
  const out: HeaderEdits = { set: {}, remove: [] };
  const set = get(map, 'set');
  const setMap = set === undefined ? undefined : readMap(ctx, set, [...path, 'set']);
  for (const e of setMap?.entries.values() ?? []) {
    const v = readString(ctx, e.value, [...path, 'set', e.key], { coerce: true });
    if (!headerName(ctx, e.key, e.keyPos, [...path, 'set', e.key]) || v === undefined) continue;
    if (/[\r\n\0]/.test(v)) ctx.issues.error(e.value.pos, [...path, 'set', e.key], 'a header value cannot hold CR, LF or NUL');
    else out.set[e.key.toLowerCase()] = v;
  }
  const remove = get(map, 'remove');
  const names = remove === undefined ? [] : (readStringList(ctx, remove, [...path, 'remove'], { allowString: true }) ?? []);
  for (const n of names) if (headerName(ctx, n, remove!.pos, [...path, 'remove'])) out.remove.push(n.toLowerCase());
  out.set = { ...out.set };
  return out;
}

function headerName(ctx: Ctx, name: string, pos: SourcePosition, path: PathSeg[]): boolean {
  if (HEADER_NAME.test(name) && !FORBIDDEN_KEYS.has(name.toLowerCase())) return true;
  ctx.issues.error(pos, path, `invalid header name "${name.slice(0, 60)}"`);
  return false;
}

function readRedirect(ctx: Ctx, node: YNode, path: PathSeg[]): RouteSpec['redirect'] {
  const map: YMap | undefined = readMap(ctx, node, path, 'e.g. `redirect: {to: "https://example.com/", status: 301}`');
  if (map === undefined) return undefined;
  checkKeys(ctx, map, path, { supported: new Set(['to', 'status']) });
  const toNode = get(map, 'to');
  if (toNode === undefined) {
    ctx.issues.error(map.pos, path, 'redirect needs `to`');
    return undefined;
  }
  const to = readString(ctx, toNode, [...path, 'to']);
  if (to !== undefined && /[\r\n\0]/.test(to)) {
    ctx.issues.error(toNode.pos, [...path, 'to'], 'a redirect target cannot hold CR, LF or NUL');
    return undefined;
  }
  const st = get(map, 'status');
  const status = st === undefined ? 302 : readInt(ctx, st, [...path, 'status']);
  if (status !== undefined && !REDIRECT_STATUSES.includes(status)) {
    ctx.issues.error(st?.pos, [...path, 'status'], `${status} is not a redirect status`, `expected one of ${REDIRECT_STATUSES.join(', ')}`);
    return undefined;
  }
  return to === undefined || status === undefined ? undefined : { to, status };
}
