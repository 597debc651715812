// Typed readers over YNodes: each returns the value or undefined after recording one precise issue.

import type { Lookup } from '../interpolate.ts';
import type { Issues } from '../issues.ts';
import { isMap, setOwn, type YMap, type YNode } from '../node.ts';
import { formatPath, type PathSeg } from '../positions.ts';
import { parseDuration } from './duration.ts';

export interface Ctx {
  issues: Issues;
  /** Absolute project directory; relative paths resolve against it. */
  projectDir: string;
  homeDir: string;
  /** Project environment (process env over .env) for `KEY`-only entries. */
  lookup: Lookup;
  /** Reads a service env_file; throws when missing. Absent in pure loads. */
  readFile?: (absPath: string) => string;
}

export function describe(node: YNode): string {
  if (node.kind === 'seq') return 'a list';
  if (node.kind === 'map') return 'a mapping';
  if (node.value === null) return 'null';
  return typeof node.value === 'string' ? `the string ${JSON.stringify(clip(node.value))}` : `the ${typeof node.value} ${node.value}`;
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

export function typeError(ctx: Ctx, node: YNode, path: PathSeg[], expected: string, hint?: string): undefined {
  ctx.issues.error(node.pos, path, `expected ${expected}, got ${describe(node)}`, hint);
  return undefined;
}

/** Strings; numbers and booleans are accepted as their text when `coerce` (Compose casts them for these keys). */
export function readString(ctx: Ctx, node: YNode, path: PathSeg[], opts: { coerce?: boolean; hint?: string } = {}): string | undefined {
  if (node.kind === 'scalar') {
    if (typeof node.value === 'string') return node.value;
    if (opts.coerce && node.value !== null) return String(node.value);
  }
  return typeError(ctx, node, path, 'a string', opts.hint);
}

export function readInt(ctx: Ctx, node: YNode, path: PathSeg[], opts: { min?: number; max?: number; hint?: string } = {}): number | undefined {
  let n: number | undefined;
  if (node.kind === 'scalar') {
    if (typeof node.value === 'number') n = node.value;
    else if (typeof node.value === 'string' && node.interpolated && /^-?\d+$/.test(node.value.trim())) n = Number(node.value);
  }
  if (n === undefined || !Number.isInteger(n)) return typeError(ctx, node, path, 'an integer', opts.hint);
  const { min, max } = opts;
  if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
    const range = max === undefined ? `at least ${min}` : min === undefined ? `at most ${max}` : `between ${min} and ${max}`;
    ctx.issues.error(node.pos, path, `${n} is out of range (expected ${range})`, opts.hint);
    return undefined;
  }
  return n;
}

export function readNumber(ctx: Ctx, node: YNode, path: PathSeg[], opts: { min?: number; hint?: string } = {}): number | undefined {
  let n: number | undefined;
  if (node.kind === 'scalar') {
    if (typeof node.value === 'number') n = node.value;
    else if (typeof node.value === 'string' && node.interpolated && node.value.trim() !== '') n = Number(node.value);
  }
  if (n === undefined || !Number.isFinite(n)) return typeError(ctx, node, path, 'a number', opts.hint);
  if (opts.min !== undefined && n < opts.min) {
    ctx.issues.error(node.pos, path, `${n} is below the minimum ${opts.min}`, opts.hint);
    return undefined;
  }
  return n;
}

const TRUE = new Set(['true', 'yes', 'y', 'on', '1']);
const FALSE = new Set(['false', 'no', 'n', 'off', '0']);

export function readBool(ctx: Ctx, node: YNode, path: PathSeg[]): boolean | undefined {
  if (node.kind === 'scalar') {
    if (typeof node.value === 'boolean') return node.value;
    if (typeof node.value === 'string' && node.interpolated) {
      const v = node.value.trim().toLowerCase();
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
    }
  }
  return typeError(ctx, node, path, 'true or false');
}

export function readEnum<T extends string>(ctx: Ctx, node: YNode, path: PathSeg[], allowed: readonly T[]): T | undefined {
  const s = readString(ctx, node, path, { hint: `one of: ${allowed.join(', ')}` });
  if (s === undefined) return undefined;
  if ((allowed as readonly string[]).includes(s)) return s as T;
  ctx.issues.error(node.pos, path, `invalid value "${clip(s)}"`, `expected one of: ${allowed.join(', ')}`);
  return undefined;
}

export function readDuration(ctx: Ctx, node: YNode, path: PathSeg[]): number | undefined {
  const hint = 'expected a duration like "10s", "1m30s" or "500ms"';
  const s = readString(ctx, node, path, { hint });
  if (s === undefined) return undefined;
  const ms = parseDuration(s);
  if (ms === undefined) ctx.issues.error(node.pos, path, `invalid duration "${clip(s)}"`, hint);
  return ms;
}

/** A mapping; null means "absent" (e.g. `healthcheck:` with nothing under it). */
export function readMap(ctx: Ctx, node: YNode, path: PathSeg[], hint?: string): YMap | undefined {
  if (isMap(node)) return node;
  if (node.kind === 'scalar' && node.value === null) return undefined;
  return typeError(ctx, node, path, 'a mapping', hint);
}

/** A list of strings; a lone string is accepted as one item when `allowString`. */
export function readStringList(ctx: Ctx, node: YNode, path: PathSeg[], opts: { allowString?: boolean; coerce?: boolean } = {}): string[] | undefined {
  if (node.kind === 'scalar' && opts.allowString && typeof node.value === 'string') return [node.value];
  if (node.kind !== 'seq') return typeError(ctx, node, path, opts.allowString ? 'a string or a list of strings' : 'a list of strings');
  const out: string[] = [];
  node.items.forEach((item, i) => {
    const s = readString(ctx, item, [...path, i], { coerce: opts.coerce ?? true });
    if (s !== undefined) out.push(s);
  });
  return out;
}

/**
 * `KEY=VAL` lists or mappings (environment, labels, build args). A bare `KEY` (or a null value) takes the
 * project environment when `fromEnv`, and is dropped if unset; otherwise it becomes "".
 */
export function readKeyValues(ctx: Ctx, node: YNode, path: PathSeg[], fromEnv: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (key: string, value: string | null, at: YNode, p: PathSeg[]) => {
    if (key === '' || /[\s]/.test(key) || key === '__proto__') {
      ctx.issues.error(at.pos, p, `invalid key "${clip(key)}"`, 'expected KEY=VALUE with a non-empty key without spaces');
      return;
    }
    if (value !== null) setOwn(out, key, value);
    else if (!fromEnv) setOwn(out, key, '');
    else {
      const v = ctx.lookup(key);
      if (v !== undefined) setOwn(out, key, v);
    }
  };
  if (node.kind === 'seq') {
    node.items.forEach((item, i) => {
      const s = readString(ctx, item, [...path, i], { coerce: true, hint: 'expected "KEY=VALUE"' });
      if (s === undefined) return;
      const eq = s.indexOf('=');
      put(eq === -1 ? s : s.slice(0, eq), eq === -1 ? null : s.slice(eq + 1), item, [...path, i]);
    });
  } else if (node.kind === 'map') {
    for (const e of node.entries.values()) {
      const v = e.value;
      if (v.kind !== 'scalar') {
        typeError(ctx, v, [...path, e.key], 'a string, number or boolean');
        continue;
      }
      put(e.key, v.value === null ? null : String(v.value), v, [...path, e.key]);
    }
  } else if (node.value !== null) {
    typeError(ctx, node, path, 'a list of "KEY=VALUE" or a mapping');
  }
  return out;
}

export interface KeySpec {
  supported: ReadonlySet<string>;
  /** Compose keys cmesh knows but ignores: a warning says so. */
  unsupported?: ReadonlySet<string>;
}

/** Warns (never errors) about keys outside `spec`, with a did-you-mean hint for likely typos. */
export function checkKeys(ctx: Ctx, map: YMap, path: PathSeg[], spec: KeySpec): void {
  for (const e of map.entries.values()) {
    if (e.key.startsWith('x-')) continue;
    if (spec.supported.has(e.key)) {
      ctx.issues.keys.honoured++;
      continue;
    }
    // Capped like the warnings: the summary names a few, a hostile file must not grow it without bound.
    if (ctx.issues.keys.ignored.length < 1000) ctx.issues.keys.ignored.push(formatPath([...path, e.key]));
    if (!ctx.issues.canWarn) continue;
    if (spec.unsupported?.has(e.key)) {
      ctx.issues.warn(e.keyPos, [...path, e.key], `"${e.key}" is not supported by cmesh and is ignored`);
      continue;
    }
    const guess = closest(e.key, spec.supported);
    ctx.issues.warn(e.keyPos, [...path, e.key], `unknown key "${clip(e.key)}" is ignored${guess ? ` (did you mean "${guess}"?)` : ''}`);
  }
}

function closest(word: string, candidates: Iterable<string>): string | undefined {
  if (word.length > 40) return undefined;
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
