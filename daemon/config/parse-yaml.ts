// Turns one compose file's text into a position-carrying YNode tree, refusing hostile shapes before they cost anything.
// Order matters: size is checked before lexing, flow depth while lexing (yaml's composer recurses and would overflow),
// block depth on the CST, and alias expansion is budgeted while converting.

import { Composer, type CST, Lexer, Parser } from 'yaml';
import type { SourcePosition } from '../api/errors.ts';
import type { Issues } from './issues.ts';
import { LIMITS } from './limits.ts';
import { Converter, LimitAbort } from './convert-yaml.ts';
import type { YNode } from './node.ts';
import { OffsetMapper } from './positions.ts';

/** Lexer control tokens that occupy no source characters. */
const ZERO_WIDTH = new Set(['\x02', '\x18', '\x1f']);
const OUR_TAGS = new Set(['!reset', '!override']);

/**
 * Parses one file into its documents (empty ones dropped, so an empty override file adds nothing); undefined when
 * the file cannot be used (the reasons are in `issues`). Like Docker Compose v2, a multi-document file is several
 * documents merged in order by the caller.
 */
export function parseComposeYaml(file: string, text: string, issues: Issues): YNode[] | undefined {
  const start: SourcePosition = { file, line: 1, col: 1 };
  if (text.length > LIMITS.maxBytes || Buffer.byteLength(text, 'utf8') > LIMITS.maxBytes) {
    issues.error(start, [], `file is larger than ${LIMITS.maxBytes / 1024 / 1024} MiB`, 'compose files are small; is this the right file?', 'CMESH_E_CONFIG_LIMIT');
    return undefined;
  }
  const mapper = new OffsetMapper(file, text);
  const tokens = lexAndParse(text, mapper, issues);
  if (tokens === undefined) return undefined;

  const tooDeep = findDeepNode(tokens);
  if (tooDeep !== undefined) {
    issues.error(mapper.at(tooDeep), [], `nesting deeper than ${LIMITS.maxDepth} levels`, undefined, 'CMESH_E_CONFIG_LIMIT');
    return undefined;
  }

  // uniqueKeys is off because yaml checks it in O(n²); Converter refuses duplicates with a Map instead.
  const composer = new Composer({ prettyErrors: false, uniqueKeys: false, strict: true, version: '1.2', schema: 'core' });
  const out: YNode[] = [];
  let failed = false;
  for (const doc of composer.compose(tokens)) {
    for (const e of doc.errors) {
      // yaml reports an unclosed quote where the input ends; users need the quote that was opened.
      const at = e.code === 'MISSING_CHAR' && /quote/.test(e.message) ? (quoteStart(tokens, e.pos[0]) ?? e.pos[0]) : e.pos[0];
      issues.error(mapper.at(at), [], yamlMessage(e.message, e.code), undefined, 'CMESH_E_CONFIG_YAML');
    }
    if (doc.errors.length > 0) {
      failed = true;
      continue;
    }
    for (const w of doc.warnings) {
      if (w.code === 'TAG_RESOLVE_FAILED' && [...OUR_TAGS].some((t) => w.message.endsWith(t))) continue;
      issues.warn(mapper.at(w.pos[0]), [], w.message);
    }
    if (doc.contents === null || failed) continue;
    try {
      // Anchors belong to one document; the token limit above already bounds the file as a whole.
      const node = new Converter(mapper, text, issues).convert(doc.contents, 0, [], start);
      // A document holding only `~`/`null` is as empty as one holding nothing.
      if (node !== undefined && !(node.kind === 'scalar' && node.value === null)) out.push(node);
    } catch (err) {
      if (!(err instanceof LimitAbort)) throw err;
      issues.error(err.pos, [], err.why, 'simplify the anchors/aliases in this file', 'CMESH_E_CONFIG_LIMIT');
      return undefined;
    }
  }
  return failed ? undefined : out;
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
  let count = 0;
  for (const lexeme of new Lexer().lex(text, false)) {
    if (++count > LIMITS.maxTokens) {
      issues.error(mapper.at(offset), [], `more than ${LIMITS.maxTokens} YAML tokens`, 'compose files are small; split or simplify this file', 'CMESH_E_CONFIG_LIMIT');
      return undefined;
    }
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
