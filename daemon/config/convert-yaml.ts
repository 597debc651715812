// Converts yaml's AST into our YNode tree: alias expansion under a budget, merge keys (`<<`), key hygiene.

import { isAlias, isMap, isPair, isScalar, isSeq, type Node, type Scalar } from 'yaml';
import type { SourcePosition } from '../api/errors.ts';
import type { Issues } from './issues.ts';
import { LIMITS } from './limits.ts';
import { FORBIDDEN_KEYS, type YEntry, type YMap, type YNode } from './node.ts';
import type { OffsetMapper, PathSeg } from './positions.ts';

const OUR_TAGS = new Set(['!reset', '!override']);

/** Thrown to abandon a conversion that hit a resource limit; the caller reports it once. */
export class LimitAbort extends Error {
  constructor(
    readonly pos: SourcePosition,
    readonly why: string,
  ) {
    super(why);
  }
}

/** AST → YNode with alias expansion under budget, merge keys (`<<`) and key hygiene. */
export class Converter {
  private readonly anchors = new Map<string, Node>();
  private readonly refCounts = new Map<Node, number>();
  private readonly weights = new Map<Node, number>();
  private readonly active = new Set<Node>();
  private nodes = 0;
  private expanding = 0;

  constructor(
    private readonly mapper: OffsetMapper,
    private readonly text: string,
    private readonly issues: Issues,
  ) {}

  private posOf(node: Node, fallback: SourcePosition): SourcePosition {
    const range = node.range;
    if (!range) return fallback;
    if (isScalar(node) && node.value === null && range[0] === range[1]) return fallback;
    return this.mapper.at(range[0]);
  }

  convert(node: Node | null, depth: number, path: PathSeg[], fallback: SourcePosition): YNode | undefined {
    if (node === null) return { kind: 'scalar', value: null, pos: fallback };
    const pos = this.posOf(node, fallback);
    if (depth > LIMITS.maxDepth) throw new LimitAbort(pos, `nesting deeper than ${LIMITS.maxDepth} levels (after alias expansion)`);
    if (++this.nodes > LIMITS.maxNodes) throw new LimitAbort(pos, `more than ${LIMITS.maxNodes} nodes after alias expansion`);
    if (isAlias(node)) return this.expandAlias(node.source, pos, depth, path);
    if (node.anchor && this.expanding === 0) this.anchors.set(node.anchor, node);
    const tag = node.tag !== undefined && OUR_TAGS.has(node.tag) ? (node.tag as '!reset' | '!override') : undefined;
    let out: YNode | undefined;
    if (isScalar(node)) {
      const v = node.value;
      const value = v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : String(v);
      out = { kind: 'scalar', value, pos };
      if (typeof value === 'number' && (node.format === 'OCT' || node.format === 'HEX')) out.nonDecimal = true;
    } else if (isSeq(node)) {
      this.active.add(node);
      const items: YNode[] = [];
      node.items.forEach((item, i) => {
        const c = this.convert(item as Node | null, depth + 1, [...path, i], pos);
        if (c !== undefined) items.push(c);
      });
      this.active.delete(node);
      out = { kind: 'seq', items, pos };
    } else if (isMap(node)) {
      this.active.add(node);
      out = this.convertMap(node.items, pos, depth, path);
      this.active.delete(node);
    } else {
      this.issues.error(pos, path, 'unsupported YAML node', undefined, 'CMESH_E_CONFIG_YAML');
      return undefined;
    }
    if (tag !== undefined) out.tag = tag;
    return out;
  }

  private expandAlias(name: string, pos: SourcePosition, depth: number, path: PathSeg[]): YNode | undefined {
    const target = this.anchors.get(name);
    if (target === undefined) {
      this.issues.error(pos, path, `unknown anchor "*${name}"`, 'define the anchor (`&name`) before using it', 'CMESH_E_CONFIG_YAML');
      return undefined;
    }
    if (this.active.has(target)) {
      this.issues.error(pos, path, `alias "*${name}" refers to a node that contains it`, undefined, 'CMESH_E_CONFIG_YAML');
      return undefined;
    }
    const refs = (this.refCounts.get(target) ?? 0) + 1;
    this.refCounts.set(target, refs);
    if (refs * this.weight(target) > LIMITS.maxAliasCount) {
      throw new LimitAbort(pos, `excessive use of alias "*${name}" (limit ${LIMITS.maxAliasCount})`);
    }
    this.expanding++;
    try {
      return this.convert(target, depth, path, pos);
    } finally {
      this.expanding--;
    }
  }

  /** 1 + aliases nested in the anchored node, counted iteratively and memoized. */
  private weight(node: Node): number {
    const cached = this.weights.get(node);
    if (cached !== undefined) return cached;
    let count = 1;
    const stack: unknown[] = [node];
    while (stack.length > 0) {
      const n = stack.pop();
      if (isAlias(n)) count++;
      else if (isSeq(n) || isMap(n)) stack.push(...n.items);
      else if (isPair(n)) stack.push(n.key, n.value);
    }
    this.weights.set(node, count);
    return count;
  }

  private convertMap(pairs: unknown[], pos: SourcePosition, depth: number, path: PathSeg[]): YMap {
    const entries = new Map<string, YEntry>();
    const merges: YMap[] = [];
    for (const p of pairs) {
      if (!isPair(p)) continue;
      const keyNode = p.key as Node | null;
      const keyPos = keyNode ? this.posOf(keyNode, pos) : pos;
      if (isScalar(keyNode) && keyNode.type === 'PLAIN' && keyNode.value === '<<') {
        merges.push(...this.mergeSources(p.value as Node | null, keyPos, depth, path));
        continue;
      }
      const key = this.keyString(keyNode, keyPos, path);
      if (key === undefined) continue;
      if (entries.has(key)) {
        this.issues.error(keyPos, [...path, key], 'duplicate key (map keys must be unique)', 'remove one of the two', 'CMESH_E_CONFIG_YAML');
        continue;
      }
      const value = this.convert(p.value as Node | null, depth + 1, [...path, key], keyPos);
      if (value !== undefined) entries.set(key, { key, keyPos, value });
    }
    for (const m of merges) {
      for (const [k, e] of m.entries) if (!entries.has(k)) entries.set(k, e);
    }
    return { kind: 'map', entries, pos };
  }

  private mergeSources(value: Node | null, keyPos: SourcePosition, depth: number, path: PathSeg[]): YMap[] {
    const sources = isSeq(value) ? (value.items as Node[]) : [value];
    const out: YMap[] = [];
    for (const s of sources) {
      const conv = s === null ? undefined : this.convert(s, depth + 1, path, keyPos);
      if (conv === undefined) continue;
      if (conv.kind !== 'map') {
        this.issues.error(conv.pos, path, 'merge key `<<` needs a mapping or a list of mappings', 'use `<<: *anchor` where the anchor is a mapping', 'CMESH_E_CONFIG_YAML');
        continue;
      }
      out.push(conv);
    }
    return out;
  }

  private keyString(keyNode: Node | null, keyPos: SourcePosition, path: PathSeg[]): string | undefined {
    if (!isScalar(keyNode) || keyNode.value === null) {
      const what = keyNode === null || isScalar(keyNode) ? 'an empty key' : 'a non-scalar key';
      this.issues.error(keyPos, path, `mapping has ${what}`, 'mapping keys must be plain strings', 'CMESH_E_CONFIG_INVALID');
      return undefined;
    }
    const key = keyString(keyNode as Scalar, this.text);
    if (FORBIDDEN_KEYS.has(key)) {
      this.issues.error(keyPos, [...path, key], `key "${key}" is not allowed`, 'rename this key; it is reserved', 'CMESH_E_CONFIG_INVALID');
      return undefined;
    }
    return key;
  }
}

/** Numbers and booleans used as keys keep their source spelling (`1.0: x` → "1.0"), like Compose reads them. */
function keyString(node: Scalar, text: string): string {
  if (typeof node.value === 'string') return node.value;
  if (node.type === 'PLAIN' && node.range) return text.slice(node.range[0], node.range[1]);
  return String(node.value);
}
