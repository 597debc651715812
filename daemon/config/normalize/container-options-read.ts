// Small typed readers shared by the container-options keys: byte sizes, string-or-list, mappings of strings.

import { setOwn, type YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { parseByteSize } from './byte-size.ts';
import { type Ctx, readKeyValues, readString, readStringList, typeError } from './read.ts';

/** A size in bytes: an integer, or a string like "512m" / "1.5gb". */
export function readBytes(ctx: Ctx, node: YNode, path: PathSeg[], opts: { allowMinusOne?: boolean } = {}): number | undefined {
  if (node.kind === 'scalar' && typeof node.value === 'number') {
    if (Number.isInteger(node.value) && (node.value >= 0 || (opts.allowMinusOne && node.value === -1))) return node.value;
  } else if (node.kind === 'scalar' && typeof node.value === 'string') {
    if (opts.allowMinusOne && node.value.trim() === '-1') return -1;
    const n = parseByteSize(node.value);
    if (n !== undefined) return n;
  }
  return typeError(ctx, node, path, 'a size like 512m, 1g or a number of bytes', 'units are b, k, m, g (1k = 1024 bytes)');
}

/** `dns: 8.8.8.8` or a list (Compose's string_or_list). */
export function readStringOrList(ctx: Ctx, node: YNode, path: PathSeg[]): string[] | undefined {
  return readStringList(ctx, node, path, { allowString: true });
}

/** A mapping or `KEY=VALUE` list of strings (sysctls, storage_opt, logging options, driver_opts). */
export function readStringMap(ctx: Ctx, node: YNode, path: PathSeg[]): Record<string, string> {
  return readKeyValues(ctx, node, path, false);
}

/** A mapping whose values must be strings (numbers and booleans are taken as their text, as Compose does). */
export function readOptionMap(ctx: Ctx, node: YNode, path: PathSeg[]): Record<string, string> | undefined {
  if (node.kind === 'scalar' && node.value === null) return {};
  if (node.kind !== 'map') return typeError(ctx, node, path, 'a mapping');
  const out: Record<string, string> = {};
  for (const e of node.entries.values()) {
    if (e.value.kind === 'scalar' && e.value.value === null) continue;
    const v = readString(ctx, e.value, [...path, e.key], { coerce: true });
    if (v !== undefined) setOwn(out, e.key, v);
  }
  return out;
}
