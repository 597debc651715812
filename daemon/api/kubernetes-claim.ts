// A named volume's `x-cmesh.kubernetes`: what `cmesh export kubernetes` asks of its PersistentVolumeClaim. Compose has
// no size or access mode to give, so without these the export uses its defaults and says so in a warning.

import { z } from 'zod';

export const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'] as const;
export type AccessMode = (typeof ACCESS_MODES)[number];

/** A Kubernetes quantity as a claim's storage request takes it: `10Gi`, `500Mi`, `1.5G`, `1e9`. */
export const QUANTITY = /^(\d+(\.\d+)?|\.\d+)([KMGTPE]i|[kMGTPE]|[eE][+-]?\d+)?$/;
/** A StorageClass name: a DNS subdomain. */
export const STORAGE_CLASS = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export interface KubernetesClaim {
  size?: string;
  accessModes?: AccessMode[];
  storageClass?: string;
}

export const KubernetesClaimSchema = z.strictObject({
  size: z.string().regex(QUANTITY).optional(),
  accessModes: z.array(z.enum(ACCESS_MODES)).min(1).optional(),
  storageClass: z.string().regex(STORAGE_CLASS).optional(),
});
