// Parses env files (`.env`, --env-file, service env_file) with Compose's dotenv syntax: KEY=VAL, `export`, quotes,
// comments and interpolation of earlier values.

import type { SourcePosition } from '../api/errors.ts';
import { interpolate, type Lookup } from './interpolate.ts';

export interface EnvFileProblem {
  message: string;
  position: SourcePosition;
}

export interface EnvFileResult {
  values: Map<string, string>;
  problems: EnvFileProblem[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', '"': '"', $: '\\$' };

/**
 * `lookup` resolves `${VAR}` for names not defined earlier in this file (and for bare `KEY` lines);
 * process env should win, so callers put it first in `lookup` and we consult it before file values.
 */
export function parseEnvFile(file: string, text: string, lookup: Lookup = () => undefined): EnvFileResult {
  const values = new Map<string, string>();
  const problems: EnvFileProblem[] = [];
  const resolve: Lookup = (name) => lookup(name) ?? values.get(name);
  const src = text.replace(/\r\n?/g, '\n');
  let i = 0;
  let line = 1;
  while (i < src.length) {
    const eol = src.indexOf('\n', i) === -1 ? src.length : src.indexOf('\n', i);
    const raw = src.slice(i, eol);
    const trimmed = raw.trimStart();
    const col = raw.length - trimmed.length + 1;
    if (trimmed === '' || trimmed.startsWith('#')) {
      i = eol + 1;
      line++;
      continue;
    }
    const body = trimmed.startsWith('export ') ? trimmed.slice(7).trimStart() : trimmed;
    const eq = body.indexOf('=');
    const key = (eq === -1 ? body.replace(/\s+#.*$/, '') : body.slice(0, eq)).trim();
    if (!KEY.test(key)) {
      problems.push({ message: `invalid variable name "${key.slice(0, 40)}"`, position: { file, line, col } });
      i = eol + 1;
      line++;
      continue;
    }
    if (eq === -1) {
      const v = lookup(key);
      if (v !== undefined) values.set(key, v);
      i = eol + 1;
      line++;
      continue;
    }
    const valueStart = i + (raw.length - body.length) + eq + 1;
    const parsed = parseValue(src, valueStart, resolve);
    if (parsed.error !== undefined) {
      problems.push({ message: parsed.error, position: { file, line, col } });
    } else {
      values.set(key, parsed.value);
    }
    const consumedLines = src.slice(i, parsed.end).split('\n').length - 1;
    const next = src.indexOf('\n', parsed.end);
    i = next === -1 ? src.length : next + 1;
    line += consumedLines + 1;
  }
  return { values, problems };
}

interface ParsedValue {
  value: string;
  end: number;
  error?: string;
}

function parseValue(src: string, start: number, resolve: Lookup): ParsedValue {
  let p = start;
  while (src[p] === ' ' || src[p] === '\t') p++;
  const q = src[p];
  if (q === "'" || q === '"') {
    let j = p + 1;
    let out = '';
    while (j < src.length && src[j] !== q) {
      if (q === '"' && src[j] === '\\' && j + 1 < src.length) {
        const e = src[j + 1] ?? '';
        out += ESCAPES[e] ?? `\\${e}`;
        j += 2;
      } else {
        out += src[j];
        j++;
      }
    }
    if (j >= src.length) return { value: '', end: src.length, error: `unterminated ${q === '"' ? 'double' : 'single'}-quoted value` };
    // An escaped `\$` must survive interpolation as a literal dollar.
    const value = q === '"' ? interpolate(out.replace(/\\\$/g, '$$$$'), resolve).value : out;
    return { value, end: j + 1 };
  }
  const eol = src.indexOf('\n', p) === -1 ? src.length : src.indexOf('\n', p);
  const raw = src.slice(p, eol).replace(/(^|\s+)#.*$/, '').trim();
  return { value: interpolate(raw, resolve).value, end: eol };
}
