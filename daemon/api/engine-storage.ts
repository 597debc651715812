// The network and volume side of the engine port (engine.ts re-exports these, so importers keep one name).

import type { IpamSpec } from './project.ts';

export interface NetworkInfo {
  id: string;
  name: string;
  labels: Record<string, string>;
}

export interface NetworkCreateSpec {
  name: string;
  driver?: string;
  internal?: boolean;
  labels: Record<string, string>;
  driverOpts?: Record<string, string>;
  attachable?: boolean;
  enableIpv6?: boolean;
  enableIpv4?: boolean;
  ipam?: IpamSpec;
}

export interface VolumeInfo {
  name: string;
  labels: Record<string, string>;
}

export interface VolumeCreateSpec {
  name: string;
  driver?: string;
  labels: Record<string, string>;
  driverOpts?: Record<string, string>;
}
