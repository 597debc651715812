// Long-syntax service volumes (`type`, `source`, `target`, `read_only`, `bind`, `volume`, `tmpfs`) → VolumeMount.

import type { VolumeMount } from '../../api/project.ts';
import { get, type YMap, type YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { VOLUME_MOUNT_KEYS } from '../schema.ts';
import { readBytes } from './container-options-read.ts';
import { readMode } from './file-grants.ts';
import { resolveHostPath } from './paths.ts';
import { checkKeys, type Ctx, readBool, readEnum, readKeyValues, readMap, readString } from './read.ts';

const TYPES = ['bind', 'volume', 'tmpfs', 'image', 'npipe', 'cluster'] as const;
const PROPAGATIONS = ['rprivate', 'private', 'rshared', 'shared', 'rslave', 'slave'] as const;
const BIND_KEYS = new Set(['propagation', 'create_host_path', 'selinux', 'recursive']);
const VOLUME_OPTION_KEYS = new Set(['nocopy', 'subpath', 'labels']);
const TMPFS_KEYS = new Set(['size', 'mode']);

/** Mount types Docker Engine on Linux cannot give a cmesh service, with the reason. */
const REFUSED: Record<string, string> = {
  image: 'image mounts need Engine API 1.48 and are not implemented by cmesh',
  npipe: 'named pipes exist on Windows engines only',
  cluster: 'cluster volumes need Swarm (CSI), outside cmesh',
};

/** A named volume reference to check against the top-level `volumes:` once all services are read. */
export interface VolumeRef {
  name: string;
  node: YNode;
  path: PathSeg[];
}

export function absoluteTarget(ctx: Ctx, node: YNode, path: PathSeg[], t: string): boolean {
  if (t.startsWith('/')) return true;
  ctx.issues.error(node.pos, path, `container path "${t.slice(0, 60)}" is not absolute`, 'the target must start with "/"');
  return false;
}

export function readLongVolume(ctx: Ctx, node: YMap, path: PathSeg[], refs: VolumeRef[]): VolumeMount | undefined {
  checkKeys(ctx, node, path, { supported: VOLUME_MOUNT_KEYS });
  const typeNode = get(node, 'type');
  const type = typeNode === undefined ? 'volume' : readEnum(ctx, typeNode, [...path, 'type'], TYPES);
  if (type !== undefined && type in REFUSED) {
    ctx.issues.error(typeNode!.pos, [...path, 'type'], `volume type "${type}" is not supported: ${REFUSED[type]}`, 'use a bind mount or a named volume');
    return undefined;
  }
  const targetNode = get(node, 'target');
  if (targetNode === undefined) {
    ctx.issues.error(node.pos, path, 'volume is missing "target"', 'long syntax needs `target: /container/path`');
    return undefined;
  }
  const dest = readString(ctx, targetNode, [...path, 'target']);
  if (type === undefined || dest === undefined || !absoluteTarget(ctx, targetNode, [...path, 'target'], dest)) return undefined;
  const m: VolumeMount = { type: type as VolumeMount['type'], target: dest, readOnly: false };
  const ro = get(node, 'read_only');
  if (ro !== undefined) m.readOnly = readBool(ctx, ro, [...path, 'read_only']) ?? false;
  const srcNode = get(node, 'source');
  const source = srcNode === undefined || (srcNode.kind === 'scalar' && srcNode.value === null) ? undefined : readString(ctx, srcNode, [...path, 'source']);
  // Options of another type (`volume:` on a bind…) would be silently meaningless: refuse them.
  for (const k of ['bind', 'volume', 'tmpfs'] as const) {
    const opt = node.entries.get(k);
    if (opt !== undefined && k !== m.type) {
      ctx.issues.error(opt.keyPos, [...path, k], `"${k}" options on a ${m.type} mount have no effect`, `drop \`${k}:\`, or set \`type: ${k}\``);
      return undefined;
    }
  }
  const sub = (k: string): YMap | undefined => {
    const n = get(node, k);
    return n === undefined || (n.kind === 'scalar' && n.value === null) ? undefined : readMap(ctx, n, [...path, k]);
  };
  if (m.type === 'bind') {
    if (source === undefined) {
      if (srcNode === undefined) ctx.issues.error(node.pos, path, 'bind mount is missing "source"', 'set `source:` to a host path');
      return undefined;
    }
    m.source = resolveHostPath(source, ctx.projectDir, ctx.homeDir);
    readBindOptions(ctx, sub('bind'), [...path, 'bind'], m);
  } else if (m.type === 'volume') {
    if (source !== undefined) {
      m.source = source;
      refs.push({ name: source, node: srcNode ?? node, path: [...path, 'source'] });
    }
    readVolumeOptions(ctx, sub('volume'), [...path, 'volume'], m);
  } else {
    if (source !== undefined) {
      ctx.issues.error(srcNode!.pos, [...path, 'source'], 'a tmpfs mount has no source', 'drop `source:`');
      return undefined;
    }
    readTmpfsOptions(ctx, sub('tmpfs'), [...path, 'tmpfs'], m);
  }
  return m;
}

function readBindOptions(ctx: Ctx, map: YMap | undefined, path: PathSeg[], m: VolumeMount): void {
  // Compose creates a missing host directory for binds unless told not to.
  m.createHostPath = true;
  if (map === undefined) return;
  checkKeys(ctx, map, path, { supported: BIND_KEYS });
  const create = get(map, 'create_host_path');
  if (create !== undefined) m.createHostPath = readBool(ctx, create, [...path, 'create_host_path']) ?? true;
  const prop = get(map, 'propagation');
  const propagation = prop === undefined ? undefined : readEnum(ctx, prop, [...path, 'propagation'], PROPAGATIONS);
  if (propagation !== undefined) m.propagation = propagation;
  const rec = get(map, 'recursive');
  const recursive = rec === undefined ? undefined : readEnum(ctx, rec, [...path, 'recursive'], ['enabled', 'disabled', 'writable', 'readonly'] as const);
  if (recursive !== undefined && recursive !== 'enabled') m.recursive = recursive;
  if ((recursive === 'writable' || recursive === 'readonly') && !m.readOnly) {
    ctx.issues.error(rec!.pos, [...path, 'recursive'], `recursive "${recursive}" applies to read-only binds`, 'add `read_only: true`, or drop `recursive`');
  }
  const se = get(map, 'selinux');
  const selinux = se === undefined ? undefined : readEnum(ctx, se, [...path, 'selinux'], ['z', 'Z'] as const);
  if (selinux !== undefined) m.selinux = selinux;
  if (selinux !== undefined && (m.createHostPath === false || m.recursive !== undefined)) {
    // The engine relabels only `Binds` strings, which always create the host path and know no `recursive`.
    const other = m.createHostPath === false ? '`create_host_path: false`' : '`recursive`';
    ctx.issues.error(se!.pos, [...path, 'selinux'], `selinux relabeling cannot be combined with ${other}`, 'the engine relabels only plain binds; drop one of them');
  }
}

function readVolumeOptions(ctx: Ctx, map: YMap | undefined, path: PathSeg[], m: VolumeMount): void {
  if (map === undefined) return;
  checkKeys(ctx, map, path, { supported: VOLUME_OPTION_KEYS });
  const nocopy = get(map, 'nocopy');
  if (nocopy !== undefined && readBool(ctx, nocopy, [...path, 'nocopy'])) m.noCopy = true;
  const labelsNode = get(map, 'labels');
  const labels = labelsNode === undefined ? undefined : readKeyValues(ctx, labelsNode, [...path, 'labels'], false);
  if (labels !== undefined && Object.keys(labels).length > 0) {
    // The engine applies VolumeOptions.Labels only to a volume it creates for the mount. A named volume exists by then
    // (cmesh creates it from the top-level `volumes:`, or it is external), so only an anonymous one can take them.
    if (m.source === undefined) m.volumeLabels = labels;
    else ctx.issues.warn(labelsNode!.pos, [...path, 'labels'], `volume.labels apply only to an anonymous volume; "${m.source}" is created from the top-level volumes (or is external): set its labels there`);
  }
  const subNode = get(map, 'subpath');
  const subpath = subNode === undefined ? undefined : readString(ctx, subNode, [...path, 'subpath']);
  if (subpath === undefined || subNode === undefined) return;
  if (subpath.startsWith('/') || subpath.split('/').includes('..')) {
    ctx.issues.error(subNode.pos, [...path, 'subpath'], `subpath "${subpath.slice(0, 60)}" must be relative and stay inside the volume`, 'write it like `data/app`');
  } else if (subpath !== '') m.subpath = subpath;
}

function readTmpfsOptions(ctx: Ctx, map: YMap | undefined, path: PathSeg[], m: VolumeMount): void {
  if (map === undefined) return;
  checkKeys(ctx, map, path, { supported: TMPFS_KEYS });
  const size = get(map, 'size');
  const bytes = size === undefined ? undefined : readBytes(ctx, size, [...path, 'size']);
  if (bytes !== undefined) m.tmpfsSizeBytes = bytes;
  const mode = get(map, 'mode');
  const octal = mode === undefined ? undefined : readMode(ctx, mode, [...path, 'mode']);
  if (octal !== undefined) m.tmpfsMode = octal;
}
