// Merges several compose files as overrides with Compose's rules: maps deep-merge, some lists append-unique,
// command-like lists replace, key=value lists merge by key, volumes merge by target; `!reset`/`!override` honoured.

import { isMap, isSeq, scalar, toPlain, type YEntry, type YMap, type YNode, type YSeq } from './node.ts';

type Rule = 'replace' | 'append' | 'unique' | 'by-key' | 'names' | 'by-target';

const S = 'services.*.';
const RULES: Record<string, Rule> = {
  [`${S}command`]: 'replace',
  [`${S}entrypoint`]: 'replace',
  [`${S}healthcheck.test`]: 'replace',
  [`${S}x-cmesh.weights`]: 'replace',
  [`${S}environment`]: 'by-key',
  [`${S}labels`]: 'by-key',
  [`${S}annotations`]: 'by-key',
  [`${S}sysctls`]: 'by-key',
  [`${S}build.args`]: 'by-key',
  [`${S}build.labels`]: 'by-key',
  [`${S}deploy.labels`]: 'by-key',
  'networks.*.labels': 'by-key',
  'volumes.*.labels': 'by-key',
  [`${S}depends_on`]: 'names',
  [`${S}networks`]: 'names',
  [`${S}volumes`]: 'by-target',
};
for (const k of ['ports', 'expose', 'dns', 'dns_search', 'dns_opt', 'cap_add', 'cap_drop', 'profiles', 'env_file', 'devices', 'security_opt', 'tmpfs', 'group_add', 'extra_hosts', 'external_links', 'links', 'label_file']) {
  RULES[`${S}${k}`] = 'unique';
}

/** Sections whose direct children are user-named (so rules use `*` for the name). */
const NAMED_SECTIONS = new Set(['services', 'networks', 'volumes', 'secrets', 'configs']);

function ruleKey(path: readonly string[]): string {
  return path.map((seg, i) => (i === 1 && NAMED_SECTIONS.has(path[0] ?? '') ? '*' : seg)).join('.');
}

/** Folds the files in order; later files override earlier ones. */
export function mergeDocuments(docs: YMap[]): YMap {
  let acc: YNode | undefined;
  for (const d of docs) acc = merge(acc, d, []);
  return isMap(acc) ? acc : { kind: 'map', entries: new Map(), pos: docs[0]?.pos ?? { file: '', line: 1, col: 1 } };
}

export function merge(base: YNode | undefined, over: YNode, path: string[]): YNode | undefined {
  if (over.tag === '!reset') return undefined;
  if (over.tag === '!override') return merge(undefined, { ...over, tag: undefined } as YNode, path);
  if (base === undefined) return clean(over, path);
  const rule = RULES[ruleKey(path)];
  if (rule === 'by-key' || rule === 'names') {
    const b = toKeyed(base, rule);
    const o = toKeyed(over, rule);
    if (b !== undefined && o !== undefined) return mergeMaps(b, o, path);
    return clean(over, path);
  }
  if (isMap(base) && isMap(over)) return mergeMaps(base, over, path);
  if (isSeq(base) && isSeq(over)) {
    const items = clean(over, path) as YSeq;
    switch (rule) {
      case 'replace':
        return items;
      case 'unique': {
        const seen = new Set(base.items.map(identity));
        return { ...items, items: [...base.items, ...items.items.filter((n) => !seen.has(identity(n)))] };
      }
      case 'by-target': {
        const targets = new Set(items.items.map(mountTarget));
        const kept = base.items.filter((n) => {
          const t = mountTarget(n);
          return t === undefined || !targets.has(t);
        });
        return { ...items, items: [...kept, ...items.items] };
      }
      default:
        return { ...items, items: [...base.items, ...items.items] };
    }
  }
  return clean(over, path);
}

function mergeMaps(base: YMap, over: YMap, path: string[]): YMap {
  const entries = new Map<string, YEntry>(base.entries);
  for (const [k, e] of over.entries) {
    const merged = merge(base.entries.get(k)?.value, e.value, [...path, k]);
    if (merged === undefined) entries.delete(k);
    else entries.set(k, { key: k, keyPos: e.keyPos, value: merged });
  }
  return { kind: 'map', entries, pos: over.pos };
}

/** Applies `!reset`/`!override` found inside a node that has nothing to merge with. */
function clean(node: YNode, path: string[]): YNode {
  if (node.kind === 'scalar') return node.tag === undefined ? node : { ...node, tag: undefined };
  if (node.kind === 'seq') {
    const items = node.items.filter((n) => n.tag !== '!reset').map((n, i) => clean(n, [...path, String(i)]));
    return { kind: 'seq', items, pos: node.pos };
  }
  const entries = new Map<string, YEntry>();
  for (const [k, e] of node.entries) {
    const v = merge(undefined, e.value, [...path, k]);
    if (v !== undefined) entries.set(k, { ...e, value: v });
  }
  return { kind: 'map', entries, pos: node.pos };
}

/** `["A=1", "B"]` → `{A: "1", B: null}` (or names → `{db: null}`) so list and map forms merge by key. */
function toKeyed(node: YNode, rule: 'by-key' | 'names'): YMap | undefined {
  if (isMap(node)) return node;
  if (!isSeq(node)) return undefined;
  const entries = new Map<string, YEntry>();
  for (const item of node.items) {
    if (item.kind !== 'scalar' || item.value === null) return undefined;
    const text = String(item.value);
    const eq = rule === 'by-key' ? text.indexOf('=') : -1;
    const key = eq === -1 ? text : text.slice(0, eq);
    const value = scalar(eq === -1 ? null : text.slice(eq + 1), item.pos);
    entries.set(key, { key, keyPos: item.pos, value });
  }
  return { kind: 'map', entries, pos: node.pos };
}

function identity(n: YNode): string {
  return n.kind === 'scalar' ? String(n.value) : JSON.stringify(toPlain(n));
}

function mountTarget(n: YNode): string | undefined {
  if (n.kind === 'scalar') {
    const parts = String(n.value).split(':');
    return parts.length >= 2 ? parts[1] : parts[0];
  }
  if (isMap(n)) {
    const t = n.entries.get('target')?.value;
    return t?.kind === 'scalar' ? String(t.value) : undefined;
  }
  return undefined;
}
