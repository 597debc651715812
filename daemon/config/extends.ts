// Service-level `extends` (Compose spec, services "extends"): the local service is merged over the (recursively
// resolved) base with the override merge rules; the base may live in another file, whose relative paths then
// stay relative to that file. Keys that tie a service to its neighbours (depends_on, volumes_from, links) are not
// inherited: the spec does not let them cross into another service's definition.

import { dirname, resolve } from 'node:path';
import type { SourcePosition } from '../api/errors.ts';
import type { Issues } from './issues.ts';
import { merge } from './merge.ts';
import { isMap, type YEntry, type YMap, type YNode } from './node.ts';
import type { PathSeg } from './positions.ts';
import { rebaseServicePaths } from './rebase-paths.ts';

export interface ExtendsEnv {
  issues: Issues;
  /** Parsed, interpolated model of another compose file; undefined once the reason is reported. */
  loadFile(absPath: string, at: SourcePosition, path: PathSeg[]): YMap | undefined;
}

const NOT_INHERITED = ['depends_on', 'volumes_from', 'links'];

interface Ref {
  service: string;
  file?: string;
  /** Where the service name was written (errors about it point here). */
  node: YNode;
  /** Where `file:` was written, when given. */
  fileNode?: YNode;
}

/** Returns the model with every `extends` of its services resolved (and removed). */
export function applyExtends(model: YMap, file: string, env: ExtendsEnv): YMap {
  const services = model.entries.get('services');
  if (services === undefined || !isMap(services.value)) return model;
  if (![...services.value.entries.values()].some((e) => isMap(e.value) && e.value.entries.has('extends'))) return model;
  const r = new Resolver(env);
  const entries = new Map<string, YEntry>();
  for (const [name, e] of services.value.entries) entries.set(name, { ...e, value: r.resolve(file, model, name, []) ?? e.value });
  const out = new Map(model.entries);
  out.set('services', { ...services, value: { ...services.value, entries } });
  return { ...model, entries: out };
}

class Resolver {
  private readonly done = new Map<string, YNode>();

  constructor(private readonly env: ExtendsEnv) {}

  /** The service with its extends chain applied; undefined when it does not exist in `model`. */
  resolve(file: string, model: YMap, name: string, chain: string[]): YNode | undefined {
    const key = `${file}\0${name}`;
    const cached = this.done.get(key);
    if (cached !== undefined) return cached;
    const services = model.entries.get('services')?.value;
    const svc = isMap(services) ? services.entries.get(name)?.value : undefined;
    if (svc === undefined) return undefined;
    if (!isMap(svc) || !svc.entries.has('extends')) return svc;

    const path: PathSeg[] = ['services', name, 'extends'];
    this.env.issues.keys.honoured++;
    const local = without(svc, ['extends']);
    const ref = this.readRef(svc.entries.get('extends')!.value, path);
    let result: YNode = local;
    if (ref !== undefined) {
      const baseFile = ref.file === undefined ? file : resolve(dirname(ref.node.pos.file), ref.file);
      const baseKey = `${baseFile}\0${ref.service}`;
      if (chain.includes(baseKey) || baseKey === key) {
        const names = [...chain, key, baseKey].map((k) => k.slice(k.indexOf('\0') + 1));
        this.env.issues.error(ref.node.pos, path, `circular extends: ${names.join(' → ')}`, 'remove the extends that closes the loop');
      } else {
        const base = this.base(baseFile, file, model, ref, path, [...chain, key]);
        if (base !== undefined) result = merge(base, local, ['services', name]) ?? local;
      }
    }
    this.done.set(key, result);
    return result;
  }

  private base(baseFile: string, file: string, current: YMap, ref: Ref, path: PathSeg[], chain: string[]): YNode | undefined {
    const model = baseFile === file ? current : this.env.loadFile(baseFile, (ref.fileNode ?? ref.node).pos, path);
    if (model === undefined) return undefined;
    const base = this.resolve(baseFile, model, ref.service, chain);
    if (base === undefined) {
      const where = baseFile === file ? 'this file' : baseFile;
      const names = model.entries.get('services')?.value;
      const known = isMap(names) ? [...names.entries.keys()].join(', ') : '';
      this.env.issues.error(ref.node.pos, path, `cannot extend service "${ref.service}": no such service in ${where}`, known ? `services there: ${known}` : 'check the service name and file');
      return undefined;
    }
    if (!isMap(base)) return undefined;
    const inherited = without(base, NOT_INHERITED);
    return baseFile === file ? inherited : rebaseServicePaths(inherited, dirname(baseFile));
  }

  private readRef(node: YNode, path: PathSeg[]): Ref | undefined {
    const hint = 'write `extends: base` or `extends: {service: base, file: other.yaml}`';
    if (node.kind === 'scalar' && typeof node.value === 'string' && node.value !== '') return { service: node.value, node };
    if (!isMap(node)) {
      this.env.issues.error(node.pos, path, 'extends must be a service name or a mapping', hint);
      return undefined;
    }
    const service = node.entries.get('service')?.value;
    const file = node.entries.get('file')?.value;
    if (service?.kind !== 'scalar' || typeof service.value !== 'string' || service.value === '') {
      this.env.issues.error(service?.pos ?? node.pos, [...path, 'service'], 'extends needs the name of a service', hint);
      return undefined;
    }
    if (file !== undefined && (file.kind !== 'scalar' || typeof file.value !== 'string' || file.value === '')) {
      this.env.issues.error(file.pos, [...path, 'file'], 'extends.file must be a path', hint);
      return undefined;
    }
    for (const k of node.entries.keys()) {
      if (k !== 'service' && k !== 'file' && !k.startsWith('x-')) this.env.issues.warn(node.entries.get(k)?.keyPos, [...path, k], `unknown key "${k}" in extends is ignored`);
    }
    return file === undefined ? { service: service.value, node: service } : { service: service.value, file: String(file.value), node: service, fileNode: file };
  }
}

function without(map: YMap, keys: readonly string[]): YMap {
  if (!keys.some((k) => map.entries.has(k))) return map;
  const entries = new Map(map.entries);
  for (const k of keys) entries.delete(k);
  return { ...map, entries };
}
