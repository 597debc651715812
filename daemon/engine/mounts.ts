// MountSpec[] → the create body's `HostConfig.Binds`, `Tmpfs` and `Mounts` (pure). Binds that may create their host
// path go as `Binds` strings, like Compose v2 does: only that form creates a missing source (the Mounts API needs
// API 1.42's CreateMountpoint) and applies an SELinux relabel (`z`/`Z`). tmpfs mounts go as `Tmpfs` options: a Mounts
// API tmpfs breaks every `volumes_from` of the container on Engine 20.10 ("get: no such volume"). The rest uses Mounts.

import type Docker from 'dockerode';
import type { MountSpec } from '../api/engine.ts';

type HostConfig = NonNullable<Docker.ContainerCreateOptions['HostConfig']>;
type MountSettings = NonNullable<HostConfig['Mounts']>[number];

export function bindString(m: MountSpec): string {
  const opts = [m.readOnly ? 'ro' : 'rw', m.selinux, m.propagation].filter((o): o is string => o !== undefined);
  return `${m.source ?? ''}:${m.target}:${opts.join(',')}`;
}

function mountSettings(m: MountSpec): MountSettings {
  const out: MountSettings = {
    Type: m.type,
    // Anonymous volumes and tmpfs have no source; the engine wants the key absent or empty.
    Source: m.source ?? '',
    Target: m.target,
    ReadOnly: m.readOnly,
  };
  if (m.type === 'bind' && (m.propagation || m.recursive || m.createHostPath)) {
    out.BindOptions = {
      ...(m.propagation ? { Propagation: m.propagation } : {}),
      ...(m.recursive === 'disabled' ? { NonRecursive: true } : {}),
      // API 1.44; engine-compat refuses these on older engines, which would ignore them.
      ...(m.recursive === 'writable' ? { ReadOnlyNonRecursive: true } : {}),
      ...(m.recursive === 'readonly' ? { ReadOnlyForceRecursive: true } : {}),
      // A bind that must use the Mounts API (recursive) and may create its host path: API 1.42's CreateMountpoint.
      ...(m.createHostPath ? { CreateMountpoint: true } : {}),
    } as MountSettings['BindOptions'];
  }
  const labels = m.volumeLabels !== undefined && Object.keys(m.volumeLabels).length > 0 ? m.volumeLabels : undefined;
  if (m.type === 'volume' && (m.noCopy || m.subpath || labels)) {
    // Subpath needs API 1.45; engine-compat refuses it on older engines, which would ignore the field. Labels are
    // applied by the engine only when it creates the volume for this mount (an anonymous or a missing named one).
    out.VolumeOptions = {
      ...(m.noCopy ? { NoCopy: true } : {}),
      ...(m.subpath ? { Subpath: m.subpath } : {}),
      ...(labels ? { Labels: labels } : {}),
    } as MountSettings['VolumeOptions'];
  }
  return out;
}

/** `size=<bytes>,mode=<octal>[,ro]`, the mount options the engine passes to the kernel. */
export function tmpfsOptions(m: MountSpec): string {
  const opts = [
    m.tmpfsSizeBytes === undefined ? undefined : `size=${m.tmpfsSizeBytes}`,
    m.tmpfsMode === undefined ? undefined : `mode=${m.tmpfsMode.toString(8)}`,
    m.readOnly ? 'ro' : undefined,
  ];
  return opts.filter((o) => o !== undefined).join(',');
}

export function mountFields(mounts: readonly MountSpec[]): Pick<HostConfig, 'Binds' | 'Mounts' | 'Tmpfs'> {
  // `recursive` exists only in the Mounts API; every other creating bind is a Binds string (any API version).
  const asBind = (m: MountSpec): boolean => m.type === 'bind' && m.createHostPath === true && m.recursive === undefined;
  const binds = mounts.filter(asBind);
  const tmpfs = mounts.filter((m) => m.type === 'tmpfs');
  const rest = mounts.filter((m) => !asBind(m) && m.type !== 'tmpfs');
  return {
    ...(binds.length > 0 ? { Binds: binds.map(bindString) } : {}),
    ...(tmpfs.length > 0 ? { Tmpfs: Object.fromEntries(tmpfs.map((m) => [m.target, tmpfsOptions(m)])) } : {}),
    Mounts: rest.map(mountSettings),
  };
}
