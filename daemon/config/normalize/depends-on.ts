// `depends_on:` (list or map) → DependsOn records, then project-wide checks: unknown services and cycles.

import type { DependsOn } from '../../api/project.ts';
import type { Issues } from '../issues.ts';
import { get, setOwn, type YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { DEPENDS_CONDITIONS, DEPENDS_ON_KEYS } from '../schema.ts';
import { checkKeys, type Ctx, readBool, readEnum, readMap, readString, typeError } from './read.ts';

/** Where each dependency was written, so later checks can point at it. */
export type DependencyNodes = Map<string, { node: YNode; path: PathSeg[] }>;

export function readDependsOn(ctx: Ctx, node: YNode, path: PathSeg[], where: DependencyNodes): Record<string, DependsOn> {
  const out: Record<string, DependsOn> = {};
  const base = (): DependsOn => ({ condition: 'service_started', restart: false, required: true });
  if (node.kind === 'seq') {
    node.items.forEach((item, i) => {
      const name = readString(ctx, item, [...path, i]);
      if (name === undefined) return;
      setOwn(out, name, base());
      where.set(name, { node: item, path: [...path, i] });
    });
    return out;
  }
  if (node.kind !== 'map') {
    if (!(node.kind === 'scalar' && node.value === null)) typeError(ctx, node, path, 'a list of service names or a mapping', 'e.g. `depends_on: [db]` or `depends_on: {db: {condition: service_healthy}}`');
    return out;
  }
  for (const e of node.entries.values()) {
    const p = [...path, e.key];
    const dep = base();
    where.set(e.key, { node: { ...e.value, pos: e.keyPos }, path: p });
    const m = readMap(ctx, e.value, p);
    if (m !== undefined) {
      checkKeys(ctx, m, p, { supported: DEPENDS_ON_KEYS });
      const cond = get(m, 'condition');
      if (cond !== undefined) dep.condition = readEnum(ctx, cond, [...p, 'condition'], DEPENDS_CONDITIONS) ?? dep.condition;
      const restart = get(m, 'restart');
      if (restart !== undefined) dep.restart = readBool(ctx, restart, [...p, 'restart']) ?? false;
      const required = get(m, 'required');
      if (required !== undefined) dep.required = readBool(ctx, required, [...p, 'required']) ?? true;
    }
    setOwn(out, e.key, dep);
  }
  return out;
}

/** Reports every dependency cycle once, at the depends_on entry that closes it. Iterative DFS. */
export function checkCycles(deps: Map<string, string[]>, where: Map<string, DependencyNodes>, issues: Issues): void {
  const state = new Map<string, 1 | 2>();
  for (const root of deps.keys()) {
    if (state.has(root)) continue;
    const stack: { name: string; next: number }[] = [{ name: root, next: 0 }];
    state.set(root, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const children = deps.get(top.name) ?? [];
      if (top.next >= children.length) {
        state.set(top.name, 2);
        stack.pop();
        continue;
      }
      const child = children[top.next++]!;
      const s = state.get(child);
      if (s === 1) {
        const chain = stack.slice(stack.findIndex((f) => f.name === child)).map((f) => f.name);
        const at = where.get(top.name)?.get(child);
        issues.error(at?.node.pos, at?.path, `circular depends_on: ${[...chain, child].join(' → ')}`, 'remove one of these dependencies');
      } else if (s === undefined && deps.has(child)) {
        state.set(child, 1);
        stack.push({ name: child, next: 0 });
      }
    }
  }
}
