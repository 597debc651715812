// Top-level `include` (Compose spec, "include"): each entry is loaded as its own application model (own project
// directory and env file), and its resources are imported into the including model. A resource defined twice with
// different content is an error naming both files; an identical one (a shared include) is fine.

import { dirname, resolve } from 'node:path';
import type { SourcePosition } from '../api/errors.ts';
import type { Issues } from './issues.ts';
import { isMap, type YEntry, type YMap, type YNode } from './node.ts';
import type { PathSeg } from './positions.ts';

export interface IncludeRequest {
  files: string[];
  projectDir: string;
  /** Explicit env files (all required); undefined means `<projectDir>/.env` when present. */
  envFiles?: string[];
  at: SourcePosition;
  path: PathSeg[];
}

export interface IncludeEnv {
  issues: Issues;
  /** The included files as one model, relative paths already made absolute; undefined once the reason is reported. */
  load(req: IncludeRequest): YMap | undefined;
}

const SECTIONS = ['services', 'networks', 'volumes', 'secrets', 'configs'] as const;
const HINT = 'write `include: [other/compose.yaml]` or `include: [{path: other/compose.yaml, project_directory: other, env_file: other/.env}]`';

export function applyInclude(model: YMap, env: IncludeEnv): YMap {
  const inc = model.entries.get('include');
  if (inc === undefined) return model;
  env.issues.keys.honoured++;
  const out = new Map(model.entries);
  out.delete('include');
  const result: YMap = { ...model, entries: out };
  if (inc.value.kind === 'scalar' && inc.value.value === null) return result;
  if (inc.value.kind !== 'seq') {
    env.issues.error(inc.value.pos, ['include'], 'include must be a list', HINT);
    return result;
  }
  inc.value.items.forEach((item, i) => {
    const req = readEntry(item, ['include', i], env.issues);
    const imported = req === undefined ? undefined : env.load(req);
    if (imported !== undefined) importResources(result, imported, item, ['include', i], env.issues);
  });
  return result;
}

function str(n: YNode | undefined): string | undefined {
  return n?.kind === 'scalar' && typeof n.value === 'string' && n.value !== '' ? n.value : undefined;
}

function strings(n: YNode | undefined): string[] | undefined {
  if (n === undefined) return undefined;
  if (n.kind === 'seq') {
    const all = n.items.map(str);
    return all.every((s) => s !== undefined) && all.length > 0 ? (all as string[]) : undefined;
  }
  const s = str(n);
  return s === undefined ? undefined : [s];
}

function readEntry(item: YNode, path: PathSeg[], issues: Issues): IncludeRequest | undefined {
  // Relative paths are the including file's business: resolve them against its directory.
  const base = dirname(item.pos.file);
  const short = str(item);
  if (short !== undefined) {
    const file = resolve(base, short);
    return { files: [file], projectDir: dirname(file), at: item.pos, path };
  }
  if (!isMap(item)) {
    issues.error(item.pos, path, 'an include entry must be a path or a mapping', HINT);
    return undefined;
  }
  const files = strings(item.entries.get('path')?.value)?.map((f) => resolve(base, f));
  if (files === undefined) {
    issues.error(item.entries.get('path')?.value.pos ?? item.pos, [...path, 'path'], 'include needs `path:` (a file or a list of files)', HINT);
    return undefined;
  }
  const pdNode = item.entries.get('project_directory')?.value;
  const pd = str(pdNode);
  if (pdNode !== undefined && pd === undefined) issues.error(pdNode.pos, [...path, 'project_directory'], 'project_directory must be a path', HINT);
  const envNode = item.entries.get('env_file')?.value;
  const envFiles = strings(envNode)?.map((f) => resolve(base, f));
  if (envNode !== undefined && envFiles === undefined) issues.error(envNode.pos, [...path, 'env_file'], 'env_file must be a path or a list of paths', HINT);
  for (const e of item.entries.values()) {
    if (!['path', 'project_directory', 'env_file'].includes(e.key) && !e.key.startsWith('x-')) issues.warn(e.keyPos, [...path, e.key], `unknown key "${e.key}" in include is ignored`);
  }
  const req: IncludeRequest = { files, projectDir: pd === undefined ? dirname(files[0]!) : resolve(base, pd), at: item.pos, path };
  if (envFiles !== undefined) req.envFiles = envFiles;
  return req;
}

/** Copies the included resources into `into` (mutating its entry map, which applyInclude owns). */
function importResources(into: YMap, imported: YMap, item: YNode, path: PathSeg[], issues: Issues): void {
  for (const section of SECTIONS) {
    const from = imported.entries.get(section)?.value;
    if (!isMap(from) || from.entries.size === 0) continue;
    const existing = into.entries.get(section);
    const target = isMap(existing?.value) ? existing.value : { kind: 'map' as const, entries: new Map<string, YEntry>(), pos: item.pos };
    const entries = new Map(target.entries);
    for (const [name, e] of from.entries) {
      const mine = entries.get(name);
      if (mine === undefined) {
        entries.set(name, e);
      } else if (!sameContent(mine.value, e.value)) {
        const kind = section.slice(0, -1);
        issues.error(item.pos, path, `${kind} "${name}" is defined both in ${e.keyPos.file} and in ${mine.keyPos.file}`, `rename one of them, or define "${name}" in only one file`);
      }
    }
    into.entries.set(section, { key: section, keyPos: existing?.keyPos ?? item.pos, value: { ...target, entries } });
  }
}

/** Structural equality that ignores where a node was written. */
function sameContent(a: YNode, b: YNode): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'scalar') return b.kind === 'scalar' && a.value === b.value;
  if (a.kind === 'seq') return b.kind === 'seq' && a.items.length === b.items.length && a.items.every((x, i) => sameContent(x, b.items[i]!));
  if (b.kind !== 'map' || a.entries.size !== b.entries.size) return false;
  for (const [k, e] of a.entries) {
    const o = b.entries.get(k);
    if (o === undefined || !sameContent(e.value, o.value)) return false;
  }
  return true;
}
