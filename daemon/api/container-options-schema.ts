// ContainerOptions and ResourceOptions (container-options.ts, resource-options.ts) as zod schemas for the control API,
// pinned to their types with Same<>. Part of ProjectSpecSchema (project-schema.ts).

import { z } from 'zod';
import type { ContainerOptions, ResourceOptions } from './container-options.ts';
import { int, type Out, posInt, type Same, safeRecord, stringMap, strings } from './schema-kit.ts';

const blkioRates = z.array(z.strictObject({ path: z.string(), rate: z.number().int().min(0) })).optional();

const ResourceOptionsSchema = z.strictObject({
  nanoCpus: posInt.min(0).optional(),
  cpuShares: posInt.min(0).optional(),
  cpuPeriodUs: posInt.min(-1).optional(),
  cpuQuotaUs: posInt.min(-1).optional(),
  cpuRtPeriodUs: posInt.min(-1).optional(),
  cpuRtRuntimeUs: posInt.min(-1).optional(),
  cpuset: z.string().optional(),
  memoryBytes: posInt.min(0).optional(),
  memoryReservationBytes: posInt.min(0).optional(),
  memorySwapBytes: posInt.min(-1).optional(),
  memorySwappiness: int(0, 100).optional(),
  pidsLimit: posInt.min(-1).optional(),
  oomKillDisable: z.boolean().optional(),
  oomScoreAdj: int(-1000, 1000).optional(),
  blkioWeight: int(10, 1000).optional(),
  blkioWeightDevice: z.array(z.strictObject({ path: z.string(), weight: int(10, 1000) })).optional(),
  blkioDeviceReadBps: blkioRates,
  blkioDeviceWriteBps: blkioRates,
  blkioDeviceReadIops: blkioRates,
  blkioDeviceWriteIops: blkioRates,
  gpus: z
    .array(
      z.strictObject({
        driver: z.string().optional(),
        count: posInt.min(-1).optional(),
        deviceIds: strings.optional(),
        capabilities: z.array(strings),
        options: stringMap.optional(),
      }),
    )
    .optional(),
});

export const ContainerOptionsSchema = z.strictObject({
  containerName: z.string().optional(),
  hostname: z.string().optional(),
  domainname: z.string().optional(),
  macAddress: z.string().optional(),
  capAdd: strings.optional(),
  capDrop: strings.optional(),
  privileged: z.boolean().optional(),
  readOnly: z.boolean().optional(),
  init: z.boolean().optional(),
  ulimits: safeRecord(z.strictObject({ soft: posInt, hard: posInt })).optional(),
  sysctls: stringMap.optional(),
  tmpfs: stringMap.optional(),
  shmSizeBytes: posInt.min(0).optional(),
  devices: z.array(z.strictObject({ source: z.string(), target: z.string(), permissions: z.string() })).optional(),
  deviceCgroupRules: strings.optional(),
  dns: strings.optional(),
  dnsSearch: strings.optional(),
  dnsOptions: strings.optional(),
  extraHosts: z.array(z.strictObject({ host: z.string(), ip: z.string() })).optional(),
  securityOpt: strings.optional(),
  networkMode: z.string().optional(),
  pid: z.string().optional(),
  ipc: z.string().optional(),
  uts: z.string().optional(),
  userns: z.string().optional(),
  cgroup: z.enum(['host', 'private']).optional(),
  cgroupParent: z.string().optional(),
  groupAdd: strings.optional(),
  annotations: stringMap.optional(),
  volumesFrom: strings.optional(),
  externalLinks: strings.optional(),
  logging: z.strictObject({ driver: z.string().optional(), options: stringMap }).optional(),
  stdinOpen: z.boolean().optional(),
  tty: z.boolean().optional(),
  runtime: z.string().optional(),
  storageOpt: stringMap.optional(),
  resources: ResourceOptionsSchema.optional(),
});

// Compile-time pins: each line fails `tsc` when the schema and its contract type drift apart.
true satisfies Same<Out<typeof ResourceOptionsSchema>, ResourceOptions>;
true satisfies Same<Out<typeof ContainerOptionsSchema>, ContainerOptions>;
