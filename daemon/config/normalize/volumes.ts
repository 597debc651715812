// Service `volumes:` short syntax ("./src:/app:ro,z", "data:/var/lib/x:nocopy") → VolumeMount[]; the long syntax is
// in volume-long.ts. Every mode Compose accepts is carried to the engine, none is dropped.

import type { VolumeMount } from '../../api/project.ts';
import { isMap, type YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { looksLikePath, resolveHostPath } from './paths.ts';
import { type Ctx, readString, typeError } from './read.ts';
import { absoluteTarget, readLongVolume, type VolumeRef } from './volume-long.ts';

export type { VolumeRef } from './volume-long.ts';

const HINT = 'expected "SOURCE:TARGET[:MODE]" like "./data:/data:ro" or "dbdata:/var/lib/postgresql/data"';
const PROPAGATION = new Set(['shared', 'slave', 'private', 'rshared', 'rslave', 'rprivate']);
/** macOS-only bind consistency: Docker on Linux has nothing to tune, so these are accepted and have no effect. */
const CONSISTENCY = new Set(['cached', 'delegated', 'consistent']);
const MODES = new Set(['ro', 'rw', 'z', 'Z', 'nocopy', ...PROPAGATION, ...CONSISTENCY]);

export function readVolumes(ctx: Ctx, node: YNode, path: PathSeg[], refs: VolumeRef[]): VolumeMount[] {
  if (node.kind !== 'seq') {
    if (!(node.kind === 'scalar' && node.value === null)) typeError(ctx, node, path, 'a list of volumes', HINT);
    return [];
  }
  const out: VolumeMount[] = [];
  node.items.forEach((item, i) => {
    const p = [...path, i];
    const m = isMap(item) ? readLongVolume(ctx, item, p, refs) : readShort(ctx, item, p, refs);
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
  if (parts.length === 1) return absoluteTarget(ctx, node, path, spec) ? { type: 'volume', target: spec, readOnly: false } : undefined;
  const [source = '', dest = '', mode] = parts;
  const modes = mode === undefined ? [] : mode.split(',');
  const bad = modes.find((m) => !MODES.has(m));
  if (bad !== undefined) {
    ctx.issues.error(node.pos, path, `invalid volume mode "${bad}"`, 'expected ro, rw, z, Z, nocopy, a propagation (rprivate, rshared, rslave…) or cached/delegated/consistent');
    return undefined;
  }
  if (!absoluteTarget(ctx, node, path, dest)) return undefined;
  const clash = (a: string, b: string): boolean => modes.includes(a) && modes.includes(b);
  if (clash('ro', 'rw') || clash('z', 'Z') || modes.filter((m) => PROPAGATION.has(m)).length > 1) {
    ctx.issues.error(node.pos, path, `volume "${spec.slice(0, 60)}" has conflicting modes`, 'keep one of ro/rw, one of z/Z and one propagation');
    return undefined;
  }
  const readOnly = modes.includes('ro');
  const bind = looksLikePath(source);
  const kindOnly = (m: string, kind: string): boolean => {
    if (!modes.includes(m)) return false;
    ctx.issues.error(node.pos, path, `volume mode "${m}" applies to ${kind} only`, bind ? 'drop it, or mount a named volume' : 'drop it, or bind-mount a host path');
    return true;
  };
  if (bind) {
    if (kindOnly('nocopy', 'named volumes')) return undefined;
    const m: VolumeMount = { type: 'bind', source: resolveHostPath(source, ctx.projectDir, ctx.homeDir), target: dest, readOnly, createHostPath: true };
    const propagation = modes.find((x) => PROPAGATION.has(x)) as VolumeMount['propagation'];
    if (propagation !== undefined) m.propagation = propagation;
    const selinux = modes.find((x) => x === 'z' || x === 'Z') as VolumeMount['selinux'];
    if (selinux !== undefined) m.selinux = selinux;
    return m;
  }
  if (kindOnly('z', 'bind mounts') || kindOnly('Z', 'bind mounts') || [...PROPAGATION].some((x) => kindOnly(x, 'bind mounts'))) return undefined;
  refs.push({ name: source, node, path });
  return { type: 'volume', source, target: dest, readOnly, ...(modes.includes('nocopy') ? { noCopy: true } : {}) };
}
