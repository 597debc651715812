// The ProjectSpec (project.ts) as a zod schema, so the control API can check a project it receives from a client
// before anything trusts it. Objects are strict: an unknown key is a client/daemon version mismatch or an attack,
// and both deserve an error naming the key rather than a silent drop. Each type below is pinned to its
// TypeScript twin (see `Same` at the end), so a contract change the schema does not follow fails `tsc`.

import { z } from 'zod';
import type { ContainerOptions, ResourceOptions } from './container-options.ts';
import type { SourcePosition } from './errors.ts';
import { TARGETS } from './target.ts';
import type {
  BuildSpec,
  DependsOn,
  EnvFileValues,
  FileGrant,
  FileSource,
  HealthcheckSpec,
  HealthProbe,
  LifecycleHook,
  MeshSpec,
  IpamSpec,
  NetworkSpec,
  ServiceNetwork,
  PortMapping,
  ProjectSpec,
  ServiceSpec,
  VolumeMount,
  VolumeSpec,
  WatchRule,
} from './project.ts';
import { TlsSpecSchema } from './tls.ts';
import { TrafficPolicySchema } from './traffic-policy-schema.ts';

/** Keys no record may carry: assigning them could reach an object's prototype (the config loader refuses them too). */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const key = z.string().refine((k) => !FORBIDDEN_KEYS.has(k), { message: 'key not allowed' });
/** A record whose keys cannot pollute a prototype. */
export const safeRecord = <V extends z.ZodType>(value: V) => z.record(key, value);

const strings = z.array(z.string());
const stringMap = safeRecord(z.string());
// Counts and ports are whole numbers in the ranges the config loader accepts; durations are never negative.
const int = (min: number, max: number) => z.number().int().min(min).max(max);
const port = int(0, 65_535);
const ms = z.number().min(0);
const count = int(0, 1_000_000);

const SourcePositionSchema = z.strictObject({ file: z.string(), line: z.number().int(), col: z.number().int() });

const PortMappingSchema = z.strictObject({
  target: port,
  published: port.optional(),
  publishedEnd: port.optional(),
  hostIp: z.string().optional(),
  protocol: z.enum(['tcp', 'udp']),
  name: z.string().optional(),
  appProtocol: z.string().optional(),
  mode: z.literal('ingress').optional(),
});

const BuildSpecSchema = z.strictObject({
  context: z.string(),
  dockerfile: z.string(),
  dockerfileInline: z.string().optional(),
  args: stringMap,
  target: z.string().optional(),
  labels: stringMap,
  noCache: z.boolean().optional(),
  extraHosts: z.array(z.strictObject({ host: z.string(), ip: z.string() })).optional(),
  network: z.string().optional(),
  shmSizeBytes: z.number().int().min(0).optional(),
  ulimits: safeRecord(z.strictObject({ soft: z.number().int(), hard: z.number().int() })).optional(),
  pull: z.boolean().optional(),
  tags: strings.optional(),
  cacheFrom: strings.optional(),
  platform: z.string().optional(),
});

const HealthcheckSpecSchema = z.strictObject({
  test: strings,
  intervalMs: ms.optional(),
  timeoutMs: ms.optional(),
  retries: count.optional(),
  startPeriodMs: ms.optional(),
  startIntervalMs: ms.optional(),
  disable: z.boolean(),
});

const DependsOnSchema = z.strictObject({
  condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']),
  restart: z.boolean(),
  required: z.boolean(),
});

const VolumeMountSchema = z.strictObject({
  type: z.enum(['bind', 'volume', 'tmpfs']),
  source: z.string().optional(),
  target: z.string(),
  readOnly: z.boolean(),
  createHostPath: z.boolean().optional(),
  propagation: z.enum(['rprivate', 'private', 'rshared', 'shared', 'rslave', 'slave']).optional(),
  recursive: z.enum(['disabled', 'writable', 'readonly']).optional(),
  selinux: z.enum(['z', 'Z']).optional(),
  noCopy: z.boolean().optional(),
  subpath: z.string().optional(),
  volumeLabels: stringMap.optional(),
  tmpfsSizeBytes: z.number().int().min(0).optional(),
  tmpfsMode: z.number().int().min(0).max(0o7777).optional(),
});

const LifecycleHookSchema = z.strictObject({
  command: strings,
  user: z.string().optional(),
  privileged: z.boolean().optional(),
  workingDir: z.string().optional(),
  environment: stringMap,
});

const WatchRuleSchema = z.strictObject({
  action: z.enum(['sync', 'rebuild', 'sync+restart', 'restart', 'sync+exec']),
  path: z.string(),
  target: z.string().optional(),
  ignore: strings,
  include: strings.optional(),
  initialSync: z.boolean().optional(),
  exec: LifecycleHookSchema.optional(),
});


const HealthProbeSchema = z.strictObject({
  path: z.string().optional(),
  port: port.optional(),
  intervalMs: ms,
  timeoutMs: ms,
  rise: count,
  fall: count,
});

const MeshSpecSchema = z.strictObject({
  lb: z.enum(['round-robin', 'random', 'weighted', 'p2c', 'ewma', 'ring-hash']),
  protocol: z.enum(['http', 'tcp']),
  weights: z.array(z.number().min(0)),
  weight: z.number().min(0),
  health: HealthProbeSchema,
  retries: count,
  timeouts: z.strictObject({ connectMs: ms, requestMs: ms, idleMs: ms }),
  bind: z.string().optional(),
  hashKey: z.string().optional(),
  accessLog: z.boolean(),
  rollout: z.strictObject({ maxSurge: count }).optional(),
  healthExplicit: z.boolean(),
  protocolExplicit: z.boolean().optional(),
  eastWest: z.boolean().optional(),
  ports: z.array(z.number().int().min(1).max(65_535)).optional(),
  policy: TrafficPolicySchema.optional(),
  tls: TlsSpecSchema.optional(),
});

const posInt = z.number().int();
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

const ContainerOptionsSchema = z.strictObject({
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

const FileGrantSchema = z.strictObject({
  source: z.string(),
  target: z.string(),
  uid: posInt.min(0).optional(),
  gid: posInt.min(0).optional(),
  mode: int(0, 0o7777).optional(),
});

const FileSourceSchema = z.strictObject({
  name: z.string(),
  kind: z.enum(['secret', 'config']),
  file: z.string().optional(),
  environment: z.string().optional(),
  content: z.string().optional(),
});

const PullPolicySchema = z.custom<`every_${string}` | 'missing' | 'always' | 'never' | 'build' | 'daily' | 'weekly'>(
  (v) => typeof v === 'string' && (/^(missing|always|never|build|daily|weekly)$/.test(v) || /^every_[0-9a-z]+$/.test(v)),
  { message: 'expected a pull policy' },
);

const EnvFileValuesSchema = z.strictObject({ file: z.string(), values: stringMap });

const ServiceNetworkSchema = z.strictObject({
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

const ServiceSpecSchema = z.strictObject({
  name: z.string(),
  image: z.string().optional(),
  build: BuildSpecSchema.optional(),
  command: strings.optional(),
  entrypoint: strings.optional(),
  environment: stringMap,
  envFiles: z.array(EnvFileValuesSchema).optional(),
  ports: z.array(PortMappingSchema),
  expose: z.array(port),
  imageExpose: z.array(port).optional(),
  replicas: int(0, 1000),
  healthcheck: HealthcheckSpecSchema.optional(),
  dependsOn: safeRecord(DependsOnSchema),
  restart: z.enum(['no', 'always', 'on-failure', 'unless-stopped']),
  restartMaxRetries: count.optional(),
  restartDelayMs: ms.optional(),
  restartWindowMs: ms.optional(),
  update: z.strictObject({ parallelism: int(0, 1000).optional(), order: z.enum(['start-first', 'stop-first']).optional() }).optional(),
  postStart: z.array(LifecycleHookSchema).optional(),
  preStop: z.array(LifecycleHookSchema).optional(),
  labels: stringMap,
  volumes: z.array(VolumeMountSchema),
  networks: safeRecord(ServiceNetworkSchema),
  workingDir: z.string().optional(),
  user: z.string().optional(),
  stopSignal: z.string().optional(),
  stopGracePeriodMs: ms,
  profiles: strings,
  watch: z.array(WatchRuleSchema),
  mesh: MeshSpecSchema,
  pullPolicy: PullPolicySchema.optional(),
  platform: z.string().optional(),
  secrets: z.array(FileGrantSchema).optional(),
  configs: z.array(FileGrantSchema).optional(),
  options: ContainerOptionsSchema.optional(),
  useApiSocket: z.literal(true).optional(),
  attach: z.literal(false).optional(),
  position: SourcePositionSchema.optional(),
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

const NetworkSpecSchema = z.strictObject({
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

const VolumeSpecSchema = z.strictObject({
  name: z.string(),
  engineName: z.string(),
  external: z.boolean(),
  driver: z.string().optional(),
  labels: stringMap,
  driverOpts: stringMap.optional(),
});

/** Each entry of a named map must carry its own key as `name`: consumers index by either. */
function keyedByName(ctx: z.core.$RefinementCtx, map: Record<string, { name: string }>, field: string): void {
  for (const [k, v] of Object.entries(map)) {
    if (v.name !== k) ctx.addIssue({ code: 'custom', path: [field, k, 'name'], message: `expected "${k}" (its key), got "${v.name}"` });
  }
}

export const ProjectSpecSchema = z
  .strictObject({
    name: z.string(),
    workingDir: z.string(),
    files: strings,
    services: safeRecord(ServiceSpecSchema),
    networks: safeRecord(NetworkSpecSchema),
    volumes: safeRecord(VolumeSpecSchema),
    secrets: safeRecord(FileSourceSchema).optional(),
    configs: safeRecord(FileSourceSchema).optional(),
    profiles: strings,
    extensions: safeRecord(z.unknown()),
    eastWest: z.boolean().optional(),
    target: z.enum(TARGETS).optional(),
    registry: z.string().max(255).optional(),
  })
  .superRefine((p, ctx) => {
    keyedByName(ctx, p.services, 'services');
    keyedByName(ctx, p.networks, 'networks');
    keyedByName(ctx, p.volumes, 'volumes');
  });

/** True only when A and B are the same type (not merely assignable either way, which misses optional keys). */
export type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Out<S extends z.ZodType> = z.output<S>;

// Compile-time pins: each line fails `tsc` when the schema and its contract type drift apart.
true satisfies Same<Out<typeof SourcePositionSchema>, SourcePosition>;
true satisfies Same<Out<typeof PortMappingSchema>, PortMapping>;
true satisfies Same<Out<typeof BuildSpecSchema>, BuildSpec>;
true satisfies Same<Out<typeof HealthcheckSpecSchema>, HealthcheckSpec>;
true satisfies Same<Out<typeof DependsOnSchema>, DependsOn>;
true satisfies Same<Out<typeof EnvFileValuesSchema>, EnvFileValues>;
true satisfies Same<Out<typeof VolumeMountSchema>, VolumeMount>;
true satisfies Same<Out<typeof LifecycleHookSchema>, LifecycleHook>;
true satisfies Same<Out<typeof WatchRuleSchema>, WatchRule>;
true satisfies Same<Out<typeof HealthProbeSchema>, HealthProbe>;
true satisfies Same<Out<typeof MeshSpecSchema>, MeshSpec>;
true satisfies Same<Out<typeof ResourceOptionsSchema>, ResourceOptions>;
true satisfies Same<Out<typeof ContainerOptionsSchema>, ContainerOptions>;
true satisfies Same<Out<typeof FileGrantSchema>, FileGrant>;
true satisfies Same<Out<typeof FileSourceSchema>, FileSource>;
true satisfies Same<Out<typeof ServiceSpecSchema>, ServiceSpec>;
true satisfies Same<Out<typeof NetworkSpecSchema>, NetworkSpec>;
true satisfies Same<Out<typeof ServiceNetworkSchema>, ServiceNetwork>;
true satisfies Same<Out<typeof IpamSpecSchema>, IpamSpec>;
true satisfies Same<Out<typeof VolumeSpecSchema>, VolumeSpec>;
true satisfies Same<Out<typeof ProjectSpecSchema>, ProjectSpec>;
