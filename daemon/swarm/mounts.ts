// A service's `volumes:` and `tmpfs:` as Swarm mounts (pure). Named volumes carry their driver, options and labels in
// VolumeOptions, because Swarm creates a missing volume on whichever node runs the task; binds and tmpfs map 1:1.
// What a Swarm mount on Engine API 1.41 has no field for is returned as the reason, for translate.ts's named warnings.

import type { ProjectSpec, ServiceSpec, VolumeMount } from '../api/project.ts';
import type { SwarmMount } from '../api/swarm-engine.ts';
import { parseByteSize } from '../config/normalize/byte-size.ts';
import { Labels } from '../api/labels.ts';

export interface SwarmMounts {
  mounts: SwarmMount[];
  /** Parts of `volumes:` entries not applied (per entry, Compose's words). */
  volumeGaps: string[];
  /** `tmpfs:` options not applied. */
  tmpfsGaps: string[];
}

/** The labels of a named volume Swarm creates for the project: what `down -v` selects on this node. */
function swarmVolumeLabels(project: ProjectSpec, key: string, swarmLabels: Record<string, string>): Record<string, string> {
  return { ...(project.volumes[key]?.labels ?? {}), ...swarmLabels, [Labels.volume]: key };
}

function volumeMount(project: ProjectSpec, m: VolumeMount, swarmLabels: Record<string, string>, gaps: string[]): SwarmMount {
  const base = { Target: m.target, ...(m.readOnly ? { ReadOnly: true } : {}) };
  if (m.type === 'tmpfs') {
    return { Type: 'tmpfs', ...base, ...tmpfsOptions(m.tmpfsSizeBytes, m.tmpfsMode) };
  }
  if (m.type === 'bind') {
    if (m.selinux) gaps.push(`${m.target}: SELinux relabel :${m.selinux}`);
    if (m.recursive === 'writable' || m.recursive === 'readonly') gaps.push(`${m.target}: recursive ${m.recursive} (Engine API 1.44)`);
    const bindOptions = { ...(m.propagation ? { Propagation: m.propagation } : {}), ...(m.recursive === 'disabled' ? { NonRecursive: true } : {}) };
    return { Type: 'bind', Source: m.source ?? '', ...base, ...(Object.keys(bindOptions).length > 0 ? { BindOptions: bindOptions } : {}) };
  }
  if (m.subpath) gaps.push(`${m.target}: subpath ${m.subpath} (Engine API 1.45)`);
  const vol = m.source === undefined ? undefined : project.volumes[m.source];
  // An external volume is used as it is; a project one is created by Swarm on each node with the file's settings.
  const created = vol && !vol.external;
  const labels = created ? { ...swarmVolumeLabels(project, m.source!, swarmLabels), ...(m.volumeLabels ?? {}) } : m.volumeLabels;
  const driver = created && (vol.driver !== undefined || vol.driverOpts !== undefined) ? { DriverConfig: { ...(vol.driver ? { Name: vol.driver } : {}), ...(vol.driverOpts ? { Options: vol.driverOpts } : {}) } } : {};
  const options = { ...(m.noCopy ? { NoCopy: true } : {}), ...(labels && Object.keys(labels).length > 0 ? { Labels: labels } : {}), ...driver };
  return {
    Type: 'volume',
    ...(m.source === undefined ? {} : { Source: vol?.engineName ?? m.source }),
    ...base,
    ...(Object.keys(options).length > 0 ? { VolumeOptions: options } : {}),
  };
}

function tmpfsOptions(size: number | undefined, mode: number | undefined): Pick<SwarmMount, 'TmpfsOptions'> {
  if (size === undefined && mode === undefined) return {};
  return { TmpfsOptions: { ...(size === undefined ? {} : { SizeBytes: size }), ...(mode === undefined ? {} : { Mode: mode }) } };
}

/** Service-level `tmpfs: /run:size=64m,mode=1777`: size and mode fit TmpfsOptions; other kernel options need API 1.46. */
function serviceTmpfs(target: string, options: string, gaps: string[]): SwarmMount {
  let size: number | undefined;
  let mode: number | undefined;
  let readOnly = false;
  for (const opt of options.split(',').filter(Boolean)) {
    const [k, v = ''] = opt.split('=', 2) as [string, string?];
    if (k === 'size' && parseByteSize(v) !== undefined) size = parseByteSize(v);
    else if (k === 'mode' && /^[0-7]{1,4}$/.test(v)) mode = Number.parseInt(v, 8);
    else if (opt === 'ro') readOnly = true;
    else if (opt !== 'rw') gaps.push(`${target}: ${opt}`);
  }
  return { Type: 'tmpfs', Target: target, ...(readOnly ? { ReadOnly: true } : {}), ...tmpfsOptions(size, mode) };
}

/** Every mount of the service, in the file's order (`volumes:` first, then `tmpfs:`), and what Swarm cannot take. */
export function swarmMounts(project: ProjectSpec, s: ServiceSpec, swarmLabels: Record<string, string>): SwarmMounts {
  const out: SwarmMounts = { mounts: [], volumeGaps: [], tmpfsGaps: [] };
  for (const m of s.volumes) out.mounts.push(volumeMount(project, m, swarmLabels, out.volumeGaps));
  for (const [target, options] of Object.entries(s.options?.tmpfs ?? {})) out.mounts.push(serviceTmpfs(target, options, out.tmpfsGaps));
  return out;
}

/** Host paths of the service's binds that Compose would create when missing (Swarm fails such a task instead). */
export function bindsToCreate(s: ServiceSpec): string[] {
  return s.volumes.filter((m) => m.type === 'bind' && m.createHostPath && m.source !== undefined).map((m) => m.source!);
}
