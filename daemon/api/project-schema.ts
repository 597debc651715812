// The ProjectSpec (project.ts) as a zod schema, so the control API can check a project it receives from a client
// before anything trusts it. Objects are strict: an unknown key is a client/daemon version mismatch or an attack,
// and both deserve an error naming the key rather than a silent drop. Each type below is pinned to its
// TypeScript twin (see `Same` at the end), so a contract change the schema does not follow fails `tsc`.

import { z } from 'zod';
import { ContainerOptionsSchema } from './container-options-schema.ts';
import type { SourcePosition } from './errors.ts';
import {
  FileGrantSchema,
  FileSourceSchema,
  NetworkSpecSchema,
  ServiceNetworkSchema,
  VolumeSpecSchema,
} from './project-resources-schema.ts';
import { count, int, type Out, ms, port, type Same, safeRecord, stringMap, strings } from './schema-kit.ts';
import { TARGETS } from './target.ts';
import type {
  BuildSpec,
  DependsOn,
  EnvFileValues,
  HealthcheckSpec,
  HealthProbe,
  LifecycleHook,
  MeshSpec,
  PortMapping,
  ProjectSpec,
  ServiceSpec,
  VolumeMount,
  WatchRule,
} from './project.ts';
import { TlsSpecSchema } from './tls.ts';
import { TrafficPolicySchema } from './traffic-policy-schema.ts';

// Once imported from here; kept so code written against the old home still compiles.
export { FORBIDDEN_KEYS, type Same, safeRecord } from './schema-kit.ts';

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
  upstream: z.literal('h2c').optional(),
  protocolAlias: z.literal('grpc').optional(),
  eastWest: z.boolean().optional(),
  ports: z.array(z.number().int().min(1).max(65_535)).optional(),
  policy: z.optional(TrafficPolicySchema),
  tls: TlsSpecSchema.optional(),
});

const PullPolicySchema = z.custom<`every_${string}` | 'missing' | 'always' | 'never' | 'build' | 'daily' | 'weekly'>(
  (v) => typeof v === 'string' && (/^(missing|always|never|build|daily|weekly)$/.test(v) || /^every_[0-9a-z]+$/.test(v)),
  { message: 'expected a pull policy' },
);

const EnvFileValuesSchema = z.strictObject({ file: z.string(), values: stringMap });

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
true satisfies Same<Out<typeof ServiceSpecSchema>, ServiceSpec>;
true satisfies Same<Out<typeof ProjectSpecSchema>, ProjectSpec>;
