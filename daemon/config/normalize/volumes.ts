// Service `volumes:` short ("./src:/app:ro", "data:/var/lib/x") and long syntax → VolumeMount[].

import type { VolumeMount } from '../../api/project.ts';
import { get, isMap, type YMap, type YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { VOLUME_MOUNT_KEYS } from '../schema.ts';
import { looksLikePath, resolveHostPath } from './paths.ts';
import { checkKeys, type Ctx, readBool, readEnum, readMap, readString, typeError } from './read.ts';

const HINT = 'expected "SOURCE:TARGET[:MODE]" like "./data:/data:ro" or "dbdata:/var/lib/postgresql/data"';
const MODES = new Set(['ro', 'rw', 'z', 'Z', 'cached', 'delegated', 'consistent', 'nocopy', 'shared', 'slave', 'private', 'rshared', 'rslave', 'rprivate']);

/** A named volume reference to check against the top-level `volumes:` once all services are read. */
export interface VolumeRef {
  name: string;
  node: YNode;
  path: PathSeg[];
}

export function readVolumes(ctx: Ctx, node: YNode, path: PathSeg[], refs: VolumeRef[]): VolumeMount[] {
  if (node.kind !== 'seq') {
    if (!(node.kind === 'scalar' && node.value === null)) typeError(ctx, node, path, 'a list of volumes', HINT);
    return [];
  }
  const out: VolumeMount[] = [];
  node.items.forEach((item, i) => {
    const p = [...path, i];
    const m = isMap(item) ? readLong(ctx, item, p, refs) : readShort(ctx, item, p, refs);
    if (m !== undefined) out.push(m);
  });
  return out;
}

function readShort(ctx: Ctx, node: YNode, path: PathSeg[], refs: VolumeRef[]): VolumeMount | undefined {
  const spec = readString(ctx, node, path, { hint: HINT });
  if (spec === undefined) return undefined;
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) {
    ctx.issues.error(node.pos, path, `invalid volume "${spec.slice(0, 60)}"`, HINT);
    return undefined;
  }
  if (parts.length === 1) return target(ctx, node, path, spec) ? { type: 'volume', target: spec, readOnly: false } : undefined;
  const [source = '', dest = '', mode] = parts;
  const modes = mode === undefined ? [] : mode.split(',');
  const bad = modes.find((m) => !MODES.has(m));
  if (bad !== undefined) {
    ctx.issues.error(node.pos, path, `invalid volume mode "${bad}"`, 'expected ro, rw, z, Z, cached, delegated, consistent or nocopy');
    return undefined;
  }
  if (!target(ctx, node, path, dest)) return undefined;
  const readOnly = modes.includes('ro');
  if (looksLikePath(source)) {
    return { type: 'bind', source: resolveHostPath(source, ctx.projectDir, ctx.homeDir), target: dest, readOnly, createHostPath: true };
  }
  refs.push({ name: source, node, path });
  return { type: 'volume', source, target: dest, readOnly };
}

function target(ctx: Ctx, node: YNode, path: PathSeg[], t: string): boolean {
  if (t.startsWith('/')) return true;
  ctx.issues.error(node.pos, path, `container path "${t.slice(0, 60)}" is not absolute`, 'the target must start with "/"');
  return false;
}

function readLong(ctx: Ctx, node: YMap, path: PathSeg[], refs: VolumeRef[]): VolumeMount | undefined {
  checkKeys(ctx, node, path, { supported: VOLUME_MOUNT_KEYS });
  const typeNode = get(node, 'type');
  const type = typeNode === undefined ? 'volume' : readEnum(ctx, typeNode, [...path, 'type'], ['bind', 'volume', 'tmpfs'] as const);
  const targetNode = get(node, 'target');
  if (targetNode === undefined) {
    ctx.issues.error(node.pos, path, 'volume is missing "target"', 'long syntax needs `target: /container/path`');
    return undefined;
  }
  const dest = readString(ctx, targetNode, [...path, 'target']);
  if (type === undefined || dest === undefined || !target(ctx, targetNode, [...path, 'target'], dest)) return undefined;
  const m: VolumeMount = { type, target: dest, readOnly: false };
  const ro = get(node, 'read_only');
  if (ro !== undefined) m.readOnly = readBool(ctx, ro, [...path, 'read_only']) ?? false;
  const srcNode = get(node, 'source');
  const source = srcNode === undefined || (srcNode.kind === 'scalar' && srcNode.value === null) ? undefined : readString(ctx, srcNode, [...path, 'source']);
  if (type === 'bind') {
    if (source === undefined) {
      if (srcNode === undefined) ctx.issues.error(node.pos, path, 'bind mount is missing "source"', 'set `source:` to a host path');
      return undefined;
    }
    m.source = resolveHostPath(source, ctx.projectDir, ctx.homeDir);
    const bind = get(node, 'bind');
    const bindMap = bind === undefined ? undefined : readMap(ctx, bind, [...path, 'bind']);
    const create = bindMap === undefined ? undefined : get(bindMap, 'create_host_path');
    m.createHostPath = create === undefined ? false : (readBool(ctx, create, [...path, 'bind', 'create_host_path']) ?? false);
  } else if (type === 'volume' && source !== undefined) {
    m.source = source;
    refs.push({ name: source, node: srcNode ?? node, path: [...path, 'source'] });
  }
  return m;
}
