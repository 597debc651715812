// Top-level `networks:` and `volumes:` → NetworkSpec / VolumeSpec with engine names scoped to the project.

import type { NetworkSpec, VolumeSpec } from '../../api/project.ts';
import { get, setOwn, type YMap, type YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { NETWORK_KEYS, VOLUME_KEYS } from '../schema.ts';
import { readOptionMap } from './container-options-read.ts';
import { readNetworkOptions } from './network-options.ts';
import { checkKeys, type Ctx, readBool, readKeyValues, readMap, readString, typeError } from './read.ts';
import { readVolumeXCmesh } from './volume-x-cmesh.ts';

interface Common {
  engineName: string;
  external: boolean;
  driver?: string;
  labels: Record<string, string>;
}

function readCommon(ctx: Ctx, project: string, key: string, map: YMap | undefined, path: PathSeg[]): Common & { map?: YMap } {
  const c: Common = { engineName: `${project}_${key}`, external: false, labels: {} };
  if (map === undefined) return c;
  let explicitName: string | undefined;
  for (const e of map.entries.values()) {
    const p = [...path, e.key];
    if (e.key === 'name') explicitName = readString(ctx, e.value, p);
    else if (e.key === 'driver') {
      const d = readString(ctx, e.value, p);
      if (d !== undefined) c.driver = d;
    } else if (e.key === 'labels') c.labels = readKeyValues(ctx, e.value, p, false);
    else if (e.key === 'external') c.external = readExternal(ctx, e.value, p, (n) => {
      explicitName ??= n;
    });
  }
  if (c.external) c.engineName = explicitName ?? key;
  else if (explicitName !== undefined) c.engineName = explicitName;
  return { ...c, map };
}

/** `external: true`, or the legacy `external: {name: x}` form Compose still reads. */
function readExternal(ctx: Ctx, node: YNode, path: PathSeg[], onName: (n: string) => void): boolean {
  if (node.kind === 'map') {
    const n = get(node, 'name');
    const name = n === undefined ? undefined : readString(ctx, n, [...path, 'name']);
    if (name !== undefined) onName(name);
    ctx.issues.warn(node.pos, path, '`external: {name: ...}` is deprecated; use `external: true` and `name:`');
    return true;
  }
  return readBool(ctx, node, path) ?? false;
}

export function readNetworks(ctx: Ctx, node: YNode | undefined, project: string): Record<string, NetworkSpec> {
  const out: Record<string, NetworkSpec> = {};
  const section = node === undefined ? undefined : readMap(ctx, node, ['networks']);
  if (section === undefined) return out;
  for (const e of section.entries.values()) {
    const p = ['networks', e.key];
    const m = readMap(ctx, e.value, p);
    if (m !== undefined) checkKeys(ctx, m, p, { supported: NETWORK_KEYS });
    const { map: _m, ...c } = readCommon(ctx, project, e.key, m, p);
    const net: NetworkSpec = { name: e.key, ...c, internal: false };
    const internal = m === undefined ? undefined : get(m, 'internal');
    if (internal !== undefined) net.internal = readBool(ctx, internal, [...p, 'internal']) ?? false;
    // An external network exists already: its options are the engine's, not ours to set (Compose refuses them too).
    if (m !== undefined && !net.external) readNetworkOptions(ctx, m, p, net);
    else if (m !== undefined) refuseOnExternal(ctx, m, p, ['driver_opts', 'ipam', 'attachable', 'enable_ipv4', 'enable_ipv6']);
    setOwn(out, e.key, net);
  }
  return out;
}

export function readVolumeSection(ctx: Ctx, node: YNode | undefined, project: string): Record<string, VolumeSpec> {
  const out: Record<string, VolumeSpec> = {};
  if (node === undefined) return out;
  const section = readMap(ctx, node, ['volumes']);
  if (section === undefined) {
    if (node.kind !== 'scalar') typeError(ctx, node, ['volumes'], 'a mapping');
    return out;
  }
  for (const e of section.entries.values()) {
    const p = ['volumes', e.key];
    const m = readMap(ctx, e.value, p);
    if (m !== undefined) checkKeys(ctx, m, p, { supported: VOLUME_KEYS });
    const { map: _m, ...c } = readCommon(ctx, project, e.key, m, p);
    const vol: VolumeSpec = { name: e.key, ...c };
    if (m !== undefined && c.external) refuseOnExternal(ctx, m, p, ['driver_opts']);
    const opts = m === undefined || c.external ? undefined : get(m, 'driver_opts');
    const driverOpts = opts === undefined ? undefined : readOptionMap(ctx, opts, [...p, 'driver_opts']);
    if (driverOpts !== undefined && Object.keys(driverOpts).length > 0) vol.driverOpts = driverOpts;
    const claim = m === undefined ? undefined : readVolumeXCmesh(ctx, m, p);
    if (claim !== undefined) vol.kubernetes = claim;
    setOwn(out, e.key, vol);
  }
  return out;
}

function refuseOnExternal(ctx: Ctx, m: YMap, p: PathSeg[], keys: string[]): void {
  for (const k of keys) {
    const e = m.entries.get(k);
    if (e !== undefined) ctx.issues.error(e.keyPos, [...p, k], `"${k}" cannot be set on an external resource`, 'cmesh does not create it; drop the key or `external: true`');
  }
}
