// The project's named resources (project-resources.ts) as zod schemas for the control API, pinned with Same<>.
// Part of ProjectSpecSchema (project-schema.ts).

import { z } from 'zod';
import { KubernetesClaimSchema } from './kubernetes-claim.ts';
import type { FileGrant, FileSource, IpamSpec, NetworkSpec, ServiceNetwork, VolumeSpec } from './project-resources.ts';
import { int, type Out, posInt, type Same, stringMap, strings } from './schema-kit.ts';

export const FileGrantSchema = z.strictObject({
  source: z.string(),
  target: z.string(),
  uid: posInt.min(0).optional(),
  gid: posInt.min(0).optional(),
  mode: int(0, 0o7777).optional(),
});

export const FileSourceSchema = z.strictObject({
  name: z.string(),
  kind: z.enum(['secret', 'config']),
  file: z.string().optional(),
  environment: z.string().optional(),
  content: z.string().optional(),
});

export const ServiceNetworkSchema = z.strictObject({
  aliases: strings,
  ipv4Address: z.string().optional(),
  ipv6Address: z.string().optional(),
  linkLocalIps: strings.optional(),
  macAddress: z.string().optional(),
  priority: z.number().int().optional(),
  gwPriority: z.number().int().optional(),
  driverOpts: stringMap.optional(),
  interfaceName: z.string().optional(),
});

const IpamPoolSchema = z.strictObject({
  subnet: z.string().optional(),
  ipRange: z.string().optional(),
  gateway: z.string().optional(),
  auxAddresses: stringMap.optional(),
});

const IpamSpecSchema = z.strictObject({
  driver: z.string().optional(),
  config: z.array(IpamPoolSchema),
  options: stringMap.optional(),
});

export const NetworkSpecSchema = z.strictObject({
  name: z.string(),
  engineName: z.string(),
  external: z.boolean(),
  driver: z.string().optional(),
  internal: z.boolean(),
  labels: stringMap,
  driverOpts: stringMap.optional(),
  attachable: z.boolean().optional(),
  enableIpv6: z.boolean().optional(),
  enableIpv4: z.boolean().optional(),
  ipam: IpamSpecSchema.optional(),
});

export const VolumeSpecSchema = z.strictObject({
  name: z.string(),
  engineName: z.string(),
  external: z.boolean(),
  driver: z.string().optional(),
  labels: stringMap,
  driverOpts: stringMap.optional(),
  kubernetes: KubernetesClaimSchema.optional(),
});

// Compile-time pins: each line fails `tsc` when the schema and its contract type drift apart.
true satisfies Same<Out<typeof FileGrantSchema>, FileGrant>;
true satisfies Same<Out<typeof FileSourceSchema>, FileSource>;
true satisfies Same<Out<typeof NetworkSpecSchema>, NetworkSpec>;
true satisfies Same<Out<typeof ServiceNetworkSchema>, ServiceNetwork>;
true satisfies Same<Out<typeof IpamSpecSchema>, IpamSpec>;
true satisfies Same<Out<typeof VolumeSpecSchema>, VolumeSpec>;
