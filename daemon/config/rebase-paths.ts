// Makes the relative host paths of a service absolute against the directory of the file that wrote them, so a
// service taken from another file (`extends.file`, `include`) keeps pointing where its author meant once merged.

import { isAbsolute, resolve } from 'node:path';
import { isMap, isSeq, type YEntry, type YMap, type YNode } from './node.ts';

/** Remote build contexts (git URLs) stay as written, as in normalize/build.ts. */
const REMOTE = /^([a-z][a-z0-9+.-]*:\/\/|git@|github\.com\/)/i;

function relative(p: string): boolean {
  return p !== '' && !isAbsolute(p) && !p.startsWith('~') && !REMOTE.test(p);
}

function abs(node: YNode, dir: string): YNode {
  if (node.kind !== 'scalar' || typeof node.value !== 'string' || !relative(node.value)) return node;
  return { ...node, value: resolve(dir, node.value) };
}

function setEntry(map: YMap, key: string, value: YNode): YMap {
  const entries = new Map(map.entries);
  const old = entries.get(key);
  entries.set(key, { key, keyPos: old?.keyPos ?? value.pos, value });
  return { ...map, entries };
}

function mapEntry(map: YMap, key: string, f: (n: YNode) => YNode): YMap {
  const e = map.entries.get(key);
  return e === undefined ? map : setEntry(map, key, f(e.value));
}

function eachItem(node: YNode, f: (n: YNode) => YNode): YNode {
  return isSeq(node) ? { ...node, items: node.items.map(f) } : f(node);
}

function build(node: YNode, dir: string): YNode {
  if (!isMap(node)) return abs(node, dir);
  // An absent context means ".", which is relative too.
  const ctx = node.entries.get('context');
  return setEntry(node, 'context', ctx === undefined ? { kind: 'scalar', value: dir, pos: node.pos } : abs(ctx.value, dir));
}

function envFile(node: YNode, dir: string): YNode {
  return isMap(node) ? mapEntry(node, 'path', (p) => abs(p, dir)) : abs(node, dir);
}

/** Short volumes rebase only host paths (".", ".."): a bare name is a named volume. */
function volume(node: YNode, dir: string): YNode {
  if (isMap(node)) {
    const type = node.entries.get('type')?.value;
    return type?.kind === 'scalar' && type.value === 'bind' ? mapEntry(node, 'source', (s) => abs(s, dir)) : node;
  }
  if (node.kind !== 'scalar' || typeof node.value !== 'string') return node;
  const colon = node.value.indexOf(':');
  const source = colon === -1 ? '' : node.value.slice(0, colon);
  if (!source.startsWith('.')) return node;
  return { ...node, value: `${resolve(dir, source)}${node.value.slice(colon)}` };
}

function develop(node: YNode, dir: string): YNode {
  if (!isMap(node)) return node;
  return mapEntry(node, 'watch', (w) => eachItem(w, (rule) => (isMap(rule) ? mapEntry(rule, 'path', (p) => abs(p, dir)) : rule)));
}

export function rebaseServicePaths(service: YNode, dir: string): YNode {
  if (!isMap(service)) return service;
  let out = service;
  out = mapEntry(out, 'build', (n) => build(n, dir));
  out = mapEntry(out, 'env_file', (n) => eachItem(n, (f) => envFile(f, dir)));
  out = mapEntry(out, 'label_file', (n) => eachItem(n, (f) => envFile(f, dir)));
  out = mapEntry(out, 'volumes', (n) => eachItem(n, (v) => volume(v, dir)));
  out = mapEntry(out, 'develop', (n) => develop(n, dir));
  return out;
}

/** Rebases every service of a model (used for included files, whose paths are relative to their own project). */
export function rebaseModelPaths(model: YMap, dir: string): YMap {
  const services = model.entries.get('services');
  if (services === undefined || !isMap(services.value)) return model;
  const entries = new Map<string, YEntry>();
  for (const [k, e] of services.value.entries) entries.set(k, { ...e, value: rebaseServicePaths(e.value, dir) });
  return setEntry(model, 'services', { ...services.value, entries });
}
