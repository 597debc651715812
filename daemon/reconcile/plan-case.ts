// The shape of one golden plan case, in its own module so the case lists (plan-cases*.ts) can share it without
// importing each other.

import type { DesiredProject } from '../api/desired.ts';
import type { ContainerInfo, NetworkInfo, VolumeInfo } from '../api/engine.ts';
import type { DownOptions, PlanContext } from './plan-types.ts';

export interface PlanCase {
  name: string;
  /** Undefined only for `down` of a project the daemon forgot. */
  desired: DesiredProject | undefined;
  projectName?: string;
  containers: ContainerInfo[];
  /** Defaults to the project's default network being present. */
  networks?: NetworkInfo[];
  volumes?: VolumeInfo[];
  ctx?: Partial<PlanContext>;
  down?: DownOptions;
}
