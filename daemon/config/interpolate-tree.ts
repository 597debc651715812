// Applies interpolation to every scalar value of a parsed file (never to keys), reporting at the failing scalar.

import type { Lookup } from './interpolate.ts';
import { interpolate } from './interpolate.ts';
import type { Issues } from './issues.ts';
import type { YEntry, YNode } from './node.ts';
import type { PathSeg } from './positions.ts';

export function interpolateTree(node: YNode, lookup: Lookup, issues: Issues, warned: Set<string>, path: PathSeg[] = []): YNode {
  if (node.kind === 'seq') {
    return { ...node, items: node.items.map((n, i) => interpolateTree(n, lookup, issues, warned, [...path, i])) };
  }
  if (node.kind === 'map') {
    const entries = new Map<string, YEntry>();
    for (const [k, e] of node.entries) entries.set(k, { ...e, value: interpolateTree(e.value, lookup, issues, warned, [...path, k]) });
    return { ...node, entries };
  }
  if (typeof node.value !== 'string' || !node.value.includes('$')) return node;
  const res = interpolate(node.value, lookup);
  for (const p of res.problems) {
    const hint =
      p.kind === 'required'
        ? `set ${p.variable} in the environment or in the project's .env file`
        : 'write $$ for a literal dollar sign';
    issues.error(node.pos, path, p.message, hint, 'CMESH_E_CONFIG_INTERPOLATION');
  }
  for (const name of res.missing) {
    if (warned.has(name)) continue;
    warned.add(name);
    issues.warn(node.pos, path, `the "${name}" variable is not set; defaulting to a blank string`);
  }
  return { ...node, value: res.value, interpolated: true };
}
