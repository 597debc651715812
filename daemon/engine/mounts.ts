// MountSpec[] → the create body's `HostConfig.Binds` and `HostConfig.Mounts` (pure). Binds that may create their host
// path go as `Binds` strings, like Compose v2 does: only that form creates a missing source (the Mounts API needs
// API 1.42's CreateMountpoint) and applies an SELinux relabel (`z`/`Z`). Everything else uses the Mounts API.

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
  if (m.type === 'bind' && m.propagation) out.BindOptions = { Propagation: m.propagation };
  if (m.type === 'volume' && (m.noCopy || m.subpath)) {
    // Subpath needs API 1.45; engine-compat refuses it on older engines, which would ignore the field.
    out.VolumeOptions = { ...(m.noCopy ? { NoCopy: true } : {}), ...(m.subpath ? { Subpath: m.subpath } : {}) } as MountSettings['VolumeOptions'];
  }
  if (m.type === 'tmpfs' && (m.tmpfsSizeBytes !== undefined || m.tmpfsMode !== undefined)) {
    out.TmpfsOptions = {
      ...(m.tmpfsSizeBytes === undefined ? {} : { SizeBytes: m.tmpfsSizeBytes }),
      ...(m.tmpfsMode === undefined ? {} : { Mode: m.tmpfsMode }),
    } as MountSettings['TmpfsOptions']; // the engine reads a missing field as "default", dockerode's type wants both
  }
  return out;
}

export function mountFields(mounts: readonly MountSpec[]): Pick<HostConfig, 'Binds' | 'Mounts'> {
  const binds = mounts.filter((m) => m.type === 'bind' && m.createHostPath);
  const rest = mounts.filter((m) => !(m.type === 'bind' && m.createHostPath));
  return { ...(binds.length > 0 ? { Binds: binds.map(bindString) } : {}), Mounts: rest.map(mountSettings) };
}
