// The create options of a project network or volume (driver, ipam, driver_opts…) as one digest label, so a later `up`
// can tell that the engine's object was made from other options: the engine cannot change them in place, and Compose
// would recreate it; cmesh says so instead of silently keeping the old ones. Pure and shared by the planner and daemon.

import { createHash } from 'node:crypto';
import { Labels } from './labels.ts';
import type { NetworkSpec, ProjectSpec, VolumeSpec } from './project.ts';

function digest(o: Record<string, unknown>): string | undefined {
  const set = Object.entries(o).filter(([, v]) => v !== undefined);
  // No option beyond the defaults: no label, so objects made before this label existed compare equal.
  if (set.length === 0) return undefined;
  return createHash('sha256').update(JSON.stringify(set)).digest('hex').slice(0, 16);
}

export function networkOptionsDigest(n: NetworkSpec): string | undefined {
  // driver and internal predate this label: left out, so networks made before it do not all look changed.
  return digest({ driverOpts: n.driverOpts, attachable: n.attachable, enableIpv6: n.enableIpv6, enableIpv4: n.enableIpv4, ipam: n.ipam });
}

export function volumeOptionsDigest(v: VolumeSpec): string | undefined {
  return digest({ driverOpts: v.driverOpts });
}

export const optionsLabel = (d: string | undefined): Record<string, string> => (d === undefined ? {} : { [Labels.options]: d });

/** Project networks and volumes the engine already has, made from other options than the compose file now asks. */
export function optionDrift(
  project: ProjectSpec,
  networks: readonly { name: string; labels: Record<string, string> }[],
  volumes: readonly { name: string; labels: Record<string, string> }[],
): { kind: 'network' | 'volume'; key: string; engineName: string }[] {
  const out: { kind: 'network' | 'volume'; key: string; engineName: string }[] = [];
  const check = (kind: 'network' | 'volume', key: string, engineName: string, want: string | undefined, have: readonly { name: string; labels: Record<string, string> }[]) => {
    const found = have.find((o) => o.name === engineName);
    if (found !== undefined && found.labels[Labels.options] !== want) out.push({ kind, key, engineName });
  };
  for (const [key, n] of Object.entries(project.networks)) if (!n.external) check('network', key, n.engineName, networkOptionsDigest(n), networks);
  for (const [key, v] of Object.entries(project.volumes)) if (!v.external) check('volume', key, v.engineName, volumeOptionsDigest(v), volumes);
  return out;
}
