// Storage of a pod: named volumes → PersistentVolumeClaims, anonymous volumes and tmpfs → emptyDir, shm_size → a
// Memory emptyDir on /dev/shm. Bind mounts name a path on one host, which a cluster does not have: warned.

import { relative } from 'node:path';
import { PersistentVolumeClaim } from 'kubernetes-models/v1';
import type { IVolume, IVolumeMount } from 'kubernetes-models/v1';
import type { ProjectSpec, ServiceSpec } from '../../api/project.ts';
import { parseByteSize } from '../../config/normalize/byte-size.ts';
import type { Findings } from './findings.ts';
import { bytesQuantity, kubeName } from './names.ts';

/** Size and access mode asked for a claim whose volume sets no `x-cmesh.kubernetes`: compose has none to give. */
export const DEFAULT_CLAIM_SIZE = '1Gi';
export const DEFAULT_ACCESS_MODE = 'ReadWriteOnce';

export interface PodStorage {
  volumes: IVolume[];
  mounts: IVolumeMount[];
  /** Names (project keys) of the named volumes the pod claims. */
  claims: string[];
}

/** tmpfs options `size=64m,mode=1777` → the size in bytes; other options are warned. */
function tmpfsSize(service: ServiceSpec, target: string, options: string, findings: Findings): number | undefined {
  let size: number | undefined;
  for (const opt of options.split(',').filter((o) => o !== '')) {
    const [k, v = ''] = opt.split('=');
    if (k === 'size' && parseByteSize(v) !== undefined) size = parseByteSize(v);
    else findings.warn(service, 'tmpfs', `tmpfs option "${opt}" on ${target} has no emptyDir equivalent`);
  }
  return size;
}

export function podStorage(project: ProjectSpec, service: ServiceSpec, findings: Findings): PodStorage {
  const out: PodStorage = { volumes: [], mounts: [], claims: [] };
  const memoryDir = (name: string, mountPath: string, sizeBytes?: number) => {
    out.volumes.push({ name, emptyDir: { medium: 'Memory', ...(sizeBytes !== undefined ? { sizeLimit: bytesQuantity(sizeBytes) } : {}) } });
    out.mounts.push({ name, mountPath });
  };
  service.volumes.forEach((m, i) => {
    const readOnly = m.readOnly ? { readOnly: true } : {};
    if (m.type === 'bind') {
      const where = m.source === undefined ? '' : relative(project.workingDir, m.source) || '.';
      findings.warn(service, `volumes[${i}]`, `bind mount ${where.startsWith('..') || where === '' ? m.source : `./${where}`}:${m.target} has no cluster equivalent (ship the files in the image, a ConfigMap or a volume)`);
    } else if (m.type === 'tmpfs') {
      memoryDir(`tmpfs-${i}`, m.target);
    } else if (m.source === undefined) {
      out.volumes.push({ name: `anon-${i}`, emptyDir: {} });
      out.mounts.push({ name: `anon-${i}`, mountPath: m.target, ...readOnly });
    } else {
      const claim = kubeName(m.source);
      if (!out.claims.includes(m.source)) {
        out.claims.push(m.source);
        out.volumes.push({ name: claim, persistentVolumeClaim: { claimName: claim } });
      }
      out.mounts.push({ name: claim, mountPath: m.target, ...readOnly });
    }
  });
  Object.entries(service.options?.tmpfs ?? {}).forEach(([target, options], i) => {
    const size = tmpfsSize(service, target, options, findings);
    memoryDir(`tmpfs-opt-${i}`, target, size);
  });
  if (service.options?.shmSizeBytes !== undefined) memoryDir('dshm', '/dev/shm', service.options.shmSizeBytes);
  return out;
}

/** The claim for a named volume; `users` are the services mounting it, for the access-mode note. */
export function claimFor(project: ProjectSpec, name: string, users: ServiceSpec[], findings: Findings): PersistentVolumeClaim | undefined {
  const spec = project.volumes[name];
  const first = users[0];
  if (spec?.external && first !== undefined) {
    findings.notes.push(`volume "${name}" is external: the pods expect a PersistentVolumeClaim named "${kubeName(name)}" to exist`);
    return undefined;
  }
  const asked = spec?.kubernetes ?? {};
  if (spec?.driver !== undefined && spec.driver !== 'local' && first !== undefined && asked.storageClass === undefined) {
    findings.warn(first, 'volumes', `volume "${name}" uses driver "${spec.driver}": the claim takes the cluster's default storage class instead (set volumes.${name}.x-cmesh.kubernetes.storage_class)`);
  }
  const size = asked.size ?? DEFAULT_CLAIM_SIZE;
  const accessModes = asked.accessModes ?? [DEFAULT_ACCESS_MODE];
  // Each default named with the key that would replace it: [x-cmesh.kubernetes key, what the claim asks instead].
  const defaulted = [
    ...(asked.size === undefined ? [['size', `size ${DEFAULT_CLAIM_SIZE}`]] : []),
    ...(asked.accessModes === undefined ? [['access_modes', `access mode ${DEFAULT_ACCESS_MODE}`]] : []),
  ];
  if (defaulted.length > 0) {
    const keys = defaulted.map(([k]) => `x-cmesh.kubernetes.${k}`).join(' or ');
    findings.warnAt(`volumes.${name}`, `volume "${name}" sets no ${keys}: its PersistentVolumeClaim asks for the default ${defaulted.map(([, v]) => v).join(' and ')}`);
  }
  const pods = users.reduce((n, s) => n + s.replicas, 0);
  if (pods > 1 && accessModes.every((m) => m === 'ReadWriteOnce' || m === 'ReadWriteOncePod')) {
    findings.notes.push(`volume "${name}" is mounted by ${pods} pods: ${accessModes.join(', ')} works only while they share a node; use a ReadWriteMany storage class otherwise`);
  }
  return new PersistentVolumeClaim({
    metadata: { name: kubeName(name), labels: { 'app.kubernetes.io/part-of': kubeName(project.name) } },
    spec: {
      accessModes,
      ...(asked.storageClass === undefined ? {} : { storageClassName: asked.storageClass }),
      resources: { requests: { storage: size } },
    },
  });
}
