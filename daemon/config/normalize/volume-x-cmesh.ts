// A top-level volume's `x-cmesh:`: `kubernetes: { size, access_modes, storage_class }` for the claim the Kubernetes
// export makes. Bad values are errors at their file:line:col; unknown keys warn, as everywhere in x-cmesh.

import { ACCESS_MODES, type AccessMode, type KubernetesClaim, QUANTITY, STORAGE_CLASS } from '../../api/kubernetes-claim.ts';
import { get, type YMap } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { checkKeys, type Ctx, readEnum, readMap, readString } from './read.ts';

const X_KEYS = { supported: new Set(['kubernetes']) };
const KUBERNETES_KEYS = { supported: new Set(['size', 'access_modes', 'storage_class']) };

function readPattern(ctx: Ctx, map: YMap, key: string, path: PathSeg[], pattern: RegExp, what: string, hint: string): string | undefined {
  const node = get(map, key);
  if (node === undefined) return undefined;
  const s = readString(ctx, node, [...path, key], { hint });
  if (s === undefined) return undefined;
  if (pattern.test(s)) return s;
  ctx.issues.error(node.pos, [...path, key], `${JSON.stringify(s.slice(0, 40))} is not ${what}`, hint);
  return undefined;
}

function readAccessModes(ctx: Ctx, map: YMap, path: PathSeg[]): AccessMode[] | undefined {
  const node = get(map, 'access_modes');
  if (node === undefined) return undefined;
  const p = [...path, 'access_modes'];
  const items = node.kind === 'seq' ? node.items : [node];
  const out: AccessMode[] = [];
  items.forEach((item, i) => {
    const mode = readEnum(ctx, item, node.kind === 'seq' ? [...p, i] : p, ACCESS_MODES);
    if (mode !== undefined && !out.includes(mode)) out.push(mode);
  });
  if (items.length === 0) ctx.issues.error(node.pos, p, 'access_modes is empty', `list at least one of: ${ACCESS_MODES.join(', ')}`);
  return out.length > 0 ? out : undefined;
}

/** The claim settings of one volume (`volumes.<key>` is `map`), or undefined when it sets none. */
export function readVolumeXCmesh(ctx: Ctx, map: YMap, path: PathSeg[]): KubernetesClaim | undefined {
  const xNode = get(map, 'x-cmesh');
  if (xNode === undefined) return undefined;
  const xPath = [...path, 'x-cmesh'];
  const x = readMap(ctx, xNode, xPath);
  if (x === undefined) return undefined;
  checkKeys(ctx, x, xPath, X_KEYS);
  const kNode = get(x, 'kubernetes');
  const kPath = [...xPath, 'kubernetes'];
  const k = kNode === undefined ? undefined : readMap(ctx, kNode, kPath);
  if (k === undefined) return undefined;
  checkKeys(ctx, k, kPath, KUBERNETES_KEYS);
  const size = readPattern(ctx, k, 'size', kPath, QUANTITY, 'a Kubernetes quantity', 'write a size like 10Gi, 500Mi or 2G');
  const accessModes = readAccessModes(ctx, k, kPath);
  const storageClass = readPattern(ctx, k, 'storage_class', kPath, STORAGE_CLASS, 'a StorageClass name', 'lower-case letters, digits, "-" and "."');
  const claim: KubernetesClaim = { ...(size ? { size } : {}), ...(accessModes ? { accessModes } : {}), ...(storageClass ? { storageClass } : {}) };
  return Object.keys(claim).length > 0 ? claim : undefined;
}
