// Per-container runtime options of a service, normalized from the compose keys Docker Engine can express (capabilities,
// namespaces, limits, DNS, logging, devices…). Engine-neutral: daemon/engine maps them to the engine's create body.

export interface Ulimit {
  soft: number;
  hard: number;
}

export interface DeviceMapping {
  /** Host path. */
  source: string;
  /** Path in the container (default: the host path). */
  target: string;
  /** cgroup permissions, `rwm` by default. */
  permissions: string;
}

export interface ExtraHost {
  host: string;
  /** An IP address, or `host-gateway` (the engine substitutes its host gateway address). */
  ip: string;
}

export interface BlkioDeviceRate {
  path: string;
  rate: number;
}

export interface ResourceOptions {
  nanoCpus?: number;
  cpuShares?: number;
  cpuPeriodUs?: number;
  cpuQuotaUs?: number;
  cpuRtPeriodUs?: number;
  cpuRtRuntimeUs?: number;
  cpuset?: string;
  memoryBytes?: number;
  memoryReservationBytes?: number;
  /** Memory + swap; -1 = unlimited swap. */
  memorySwapBytes?: number;
  memorySwappiness?: number;
  pidsLimit?: number;
  oomKillDisable?: boolean;
  oomScoreAdj?: number;
  blkioWeight?: number;
  blkioWeightDevice?: { path: string; weight: number }[];
  blkioDeviceReadBps?: BlkioDeviceRate[];
  blkioDeviceWriteBps?: BlkioDeviceRate[];
  blkioDeviceReadIops?: BlkioDeviceRate[];
  blkioDeviceWriteIops?: BlkioDeviceRate[];
  /** GPU requests (`gpus:` and `deploy.resources.reservations.devices`). */
  gpus?: { driver?: string; count?: number; deviceIds?: string[]; capabilities: string[][]; options?: Record<string, string> }[];
}

export interface ContainerOptions {
  /** `container_name`: the engine name of the service's one replica. */
  containerName?: string;
  hostname?: string;
  domainname?: string;
  macAddress?: string;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  readOnly?: boolean;
  /** `init`; cmesh runs Docker's init by default (signals and zombie reaping), `init: false` turns it off. */
  init?: boolean;
  ulimits?: Record<string, Ulimit>;
  sysctls?: Record<string, string>;
  /** Service-level `tmpfs`: mount path → mount options (`size=…,mode=…`, may be ""). */
  tmpfs?: Record<string, string>;
  shmSizeBytes?: number;
  devices?: DeviceMapping[];
  deviceCgroupRules?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  extraHosts?: ExtraHost[];
  securityOpt?: string[];
  /** `network_mode`: `host`, `none`, `bridge`, `service:<name>` or `container:<name>`; the service joins no project network. */
  networkMode?: string;
  /** Namespace modes as Docker writes them: `host`, `container:<name>`, `shareable`, `private`… */
  pid?: string;
  ipc?: string;
  uts?: string;
  userns?: string;
  cgroup?: 'host' | 'private';
  cgroupParent?: string;
  groupAdd?: string[];
  logging?: { driver?: string; options: Record<string, string> };
  stdinOpen?: boolean;
  tty?: boolean;
  runtime?: string;
  storageOpt?: Record<string, string>;
  resources?: ResourceOptions;
  /** OCI annotations (HostConfig.Annotations, Engine API 1.43). */
  annotations?: Record<string, string>;
  /** `volumes_from`: `service:<name>[:ro|rw]` (its first replica) or `container:<name>[:ro|rw]`. */
  volumesFrom?: string[];
  /** `external_links` as `container:alias`, set as legacy links on every network endpoint of the container. */
  externalLinks?: string[];
}
