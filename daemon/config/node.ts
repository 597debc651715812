// The position-carrying document tree every config stage works on: plain YAML values plus where each came from.
// Maps use Map so no key (not even `__proto__`) can ever reach an object prototype.

import type { SourcePosition } from '../api/errors.ts';

export type ScalarValue = string | number | boolean | null;

interface NodeBase {
  pos: SourcePosition;
  /** Local YAML tag we act on (`!reset`, `!override`); others are dropped with a warning at parse time. */
  tag?: '!reset' | '!override';
}

export interface YScalar extends NodeBase {
  kind: 'scalar';
  value: ScalarValue;
  /** The value came out of interpolation, so numeric/boolean strings may be cast like Compose does. */
  interpolated?: boolean;
  /** The number was written as `0o…` (or `0x…`): its digits are not decimal, so readers must not re-read them. */
  nonDecimal?: boolean;
}

export interface YSeq extends NodeBase {
  kind: 'seq';
  items: YNode[];
}

export interface YEntry {
  key: string;
  keyPos: SourcePosition;
  value: YNode;
}

export interface YMap extends NodeBase {
  kind: 'map';
  entries: Map<string, YEntry>;
}

export type YNode = YScalar | YSeq | YMap;

export function scalar(value: ScalarValue, pos: SourcePosition): YScalar {
  return { kind: 'scalar', value, pos };
}

export function isMap(n: YNode | undefined): n is YMap {
  return n !== undefined && n.kind === 'map';
}

export function isSeq(n: YNode | undefined): n is YSeq {
  return n !== undefined && n.kind === 'seq';
}

export function isScalar(n: YNode | undefined): n is YScalar {
  return n !== undefined && n.kind === 'scalar';
}

export function isNull(n: YNode | undefined): boolean {
  return n === undefined || (n.kind === 'scalar' && n.value === null);
}

export function get(map: YMap, key: string): YNode | undefined {
  return map.entries.get(key)?.value;
}

/** Keys that would poison a plain object if a consumer ever spread or assigned them. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Assigns as an own data property, so even a hostile key cannot reach the prototype chain. */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Converts a node to plain JSON-like data (for `extensions`); objects are built with setOwn. */
export function toPlain(node: YNode): unknown {
  if (node.kind === 'scalar') return node.value;
  if (node.kind === 'seq') return node.items.map(toPlain);
  const out: Record<string, unknown> = {};
  for (const e of node.entries.values()) setOwn(out, e.key, toPlain(e.value));
  return out;
}
