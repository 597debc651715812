// Turns one compose file's text into a position-carrying YNode tree, refusing hostile shapes before they cost anything.
// Order matters: size is checked before lexing, flow depth while lexing (yaml's composer recurses and would overflow),
// block depth on the CST, and alias expansion is budgeted while converting.

import { Composer, type CST, isAlias, isMap, isPair, isScalar, isSeq, Lexer, type Node, Parser, type Scalar } from 'yaml';
import type { SourcePosition } from '../api/errors.ts';
import type { Issues } from './issues.ts';
import { LIMITS } from './limits.ts';
import { FORBIDDEN_KEYS, type YEntry, type YMap, type YNode } from './node.ts';
import { OffsetMapper, type PathSeg } from './positions.ts';

/** Lexer control tokens that occupy no source characters. */
const ZERO_WIDTH = new Set(['\x02', '\x18', '\x1f']);
const OUR_TAGS = new Set(['!reset', '!override']);

class LimitAbort extends Error {
  constructor(
    readonly pos: SourcePosition,
    readonly why: string,
  ) {
    super(why);
  }
}

/** Parses one file; returns undefined when it cannot be used (the reasons are in `issues`). */
export function parseComposeYaml(file: string, text: string, issues: Issues): YNode | undefined {
  const start: SourcePosition = { file, line: 1, col: 1 };
  if (text.length > LIMITS.maxBytes || Buffer.byteLength(text, 'utf8') > LIMITS.maxBytes) {
    issues.error(start, [], `file is larger than ${LIMITS.maxBytes / 1024 / 1024} MiB`, 'compose files are small; is this the right file?', 'CMESH_E_CONFIG_LIMIT');
    return undefined;
  }
  const mapper = new OffsetMapper(file, text);
  const tokens = lexAndParse(text, mapper, issues);
  if (tokens === undefined) return undefined;

  const docs = tokens.filter((t) => t.type === 'document');
  if (docs.length > 1) {
    issues.error(mapper.at(docs[1]?.offset ?? 0), [], 'multiple YAML documents in one compose file', 'remove the `---` separator; use several -f files instead', 'CMESH_E_CONFIG_YAML');
    return undefined;
  }
  const tooDeep = findDeepNode(tokens);
  if (tooDeep !== undefined) {
    issues.error(mapper.at(tooDeep), [], `nesting deeper than ${LIMITS.maxDepth} levels`, undefined, 'CMESH_E_CONFIG_LIMIT');
    return undefined;
  }

  const composer = new Composer({ prettyErrors: false, uniqueKeys: true, strict: true, version: '1.2', schema: 'core' });
  const [doc] = Array.from(composer.compose(tokens));
  if (doc === undefined || doc.contents === null) {
    issues.error(start, [], 'empty compose file', 'a compose file needs at least a `services:` section', 'CMESH_E_CONFIG_INVALID');
    return undefined;
  }
  for (const e of doc.errors) {
    // yaml reports an unclosed quote where the input ends; users need the quote that was opened.
    const at = e.code === 'MISSING_CHAR' && /quote/.test(e.message) ? (quoteStart(tokens, e.pos[0]) ?? e.pos[0]) : e.pos[0];
    issues.error(mapper.at(at), [], yamlMessage(e.message, e.code), undefined, 'CMESH_E_CONFIG_YAML');
  }
  if (doc.errors.length > 0) return undefined;
  for (const w of doc.warnings) {
    if (w.code === 'TAG_RESOLVE_FAILED' && [...OUR_TAGS].some((t) => w.message.endsWith(t))) continue;
    issues.warn(mapper.at(w.pos[0]), [], w.message);
  }

  const conv = new Converter(mapper, text, issues);
  try {
    return conv.convert(doc.contents, 0, [], start);
  } catch (err) {
    if (!(err instanceof LimitAbort)) throw err;
    issues.error(err.pos, [], err.why, 'simplify the anchors/aliases in this file', 'CMESH_E_CONFIG_LIMIT');
    return undefined;
  }
}

function yamlMessage(message: string, code: string): string {
  const first = message.split('\n')[0] ?? message;
  const m = first.replace(/ at line \d+, column \d+:?$/, '');
  return code === 'DUPLICATE_KEY' ? 'duplicate key (map keys must be unique)' : `YAML syntax error: ${m}`;
}

/** Lexes and CST-parses in one pass, bailing out as soon as flow nesting exceeds the limit. */
function lexAndParse(text: string, mapper: OffsetMapper, issues: Issues): CST.Token[] | undefined {
  const parser = new Parser();
  const tokens: CST.Token[] = [];
  let depth = 0;
  let offset = 0;
  for (const lexeme of new Lexer().lex(text, false)) {
    if (lexeme === '[' || lexeme === '{') {
      depth++;
      if (depth > LIMITS.maxDepth) {
        issues.error(mapper.at(offset), [], `nesting deeper than ${LIMITS.maxDepth} levels`, undefined, 'CMESH_E_CONFIG_LIMIT');
        return undefined;
      }
    } else if ((lexeme === ']' || lexeme === '}') && depth > 0) depth--;
    for (const t of parser.next(lexeme)) tokens.push(t);
    if (!(lexeme.length === 1 && ZERO_WIDTH.has(lexeme))) offset += lexeme.length;
  }
  for (const t of parser.end()) tokens.push(t);
  return tokens;
}

/** Iterative walk of the CST (no recursion, so a hostile depth cannot overflow our stack); returns the offending offset. */
function findDeepNode(tokens: CST.Token[]): number | undefined {
  const stack: [CST.Token, number][] = tokens.map((t) => [t, 0]);
  while (stack.length > 0) {
    const [tok, depth] = stack.pop()!;
    if (tok.type === 'document') {
      if (tok.value) stack.push([tok.value, depth]);
      continue;
    }
    if (tok.type !== 'block-map' && tok.type !== 'block-seq' && tok.type !== 'flow-collection') continue;
    if (depth + 1 > LIMITS.maxDepth) return tok.offset;
    for (const item of tok.items) {
      const it = item as { key?: CST.Token | null; value?: CST.Token };
      if (it.key) stack.push([it.key, depth + 1]);
      if (it.value) stack.push([it.value, depth + 1]);
    }
  }
  return undefined;
}

/** Offset of the quoted scalar token that ends at `end` (iterative CST walk). */
function quoteStart(tokens: CST.Token[], end: number): number | undefined {
  const stack: CST.Token[] = [...tokens];
  while (stack.length > 0) {
    const tok = stack.pop()!;
    if (tok.type === 'double-quoted-scalar' || tok.type === 'single-quoted-scalar') {
      if (tok.offset <= end && end <= tok.offset + tok.source.length) return tok.offset;
    } else if (tok.type === 'document') {
      if (tok.value) stack.push(tok.value);
    } else if (tok.type === 'block-map' || tok.type === 'block-seq' || tok.type === 'flow-collection') {
      for (const item of tok.items) {
        const it = item as { key?: CST.Token | null; value?: CST.Token };
        if (it.key) stack.push(it.key);
        if (it.value) stack.push(it.value);
      }
    }
  }
  return undefined;
}

/** AST → YNode with alias expansion under budget, merge keys (`<<`) and key hygiene. */
class Converter {
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
