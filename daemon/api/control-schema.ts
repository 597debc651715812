// Schemas of the control API's request bodies (control.ts), one per POST route. The daemon parses every body
// through these once, where it enters; defaults stand in for the fields older clients leave out. Each schema's
// output is pinned to its contract type, so a contract change the schema does not follow fails `tsc`.

import { z } from 'zod';
import type {
  ArchiveRequest,
  AttachRequest,
  BuildRequest,
  ExecRequest,
  DownRequest,
  DrainRequest,
  KillRequest,
  PortRequest,
  PullRequest,
  ReplicaRequest,
  RmRequest,
  RunRequest,
  ScaleRequest,
  ServiceSelection,
  ServicesRequest,
  SyncRequest,
  UpRequest,
} from './control.ts';
import type { FaultRequest } from './policy-control.ts';
import { TARGETS } from './target.ts';
import { ProjectSpecSchema } from './project-schema.ts';
import { type Same, safeRecord } from './schema-kit.ts';
import { CERT_NAME, type CertIssueRequest } from './tls.ts';
import { FaultSchema } from './traffic-policy-schema.ts';

const services = z.array(z.string()).default([]);
const timeoutMs = z.number().min(0).optional();

export const UpRequestSchema = z.strictObject({
  project: ProjectSpecSchema,
  services,
  build: z.enum(['auto', 'always', 'never']).default('auto'),
  wait: z.boolean().default(false),
  timeoutMs,
  scale: safeRecord(z.number().int().min(0).max(1000)).optional(),
  dockerConfig: z.string().optional(),
  target: z.enum(TARGETS).optional(),
});

export const PullRequestSchema = z.strictObject({
  project: ProjectSpecSchema,
  services,
  ignoreFailures: z.boolean().default(false),
  dockerConfig: z.string().optional(),
});

export const BuildRequestSchema = z.strictObject({
  project: ProjectSpecSchema,
  services,
  noCache: z.boolean().default(false),
});

export const SyncRequestSchema = z.strictObject({
  service: z.string(),
  files: z.array(
    z.strictObject({ path: z.string(), containerPath: z.string().optional(), kind: z.enum(['add', 'change', 'unlink']) }),
  ),
  restart: z.boolean().default(false),
  exec: z
    .strictObject({
      command: z.array(z.string()).min(1),
      user: z.string().optional(),
      workingDir: z.string().optional(),
      env: safeRecord(z.string()).optional(),
      privileged: z.boolean().optional(),
    })
    .optional(),
});

export const DownRequestSchema = z.strictObject({
  volumes: z.boolean().default(false),
  removeOrphans: z.boolean().default(false),
});

export const ScaleRequestSchema = z.strictObject({
  services: safeRecord(z.number().int().min(0).max(1000)),
  wait: z.boolean().optional(),
  timeoutMs,
});

export const ServicesRequestSchema = z.strictObject({ services, timeoutMs });

export const ReplicaRequestSchema = z.strictObject({ service: z.string(), replica: z.number().int().min(1) });

export const DrainRequestSchema = z.strictObject({ ...ReplicaRequestSchema.shape, drained: z.boolean() });

export const ServiceSelectionSchema = z.strictObject({ services });

export const KillRequestSchema = z.strictObject({ services, signal: z.string().min(1).max(32).default('SIGKILL') });

export const PortRequestSchema = z.strictObject({
  service: z.string(),
  privatePort: z.number().int().min(1).max(65535),
  protocol: z.enum(['tcp', 'udp']).default('tcp'),
  index: z.number().int().min(1).default(1),
});

const env = safeRecord(z.string());
const index = z.number().int().min(1).default(1);

export const RunRequestSchema = z.strictObject({
  project: ProjectSpecSchema,
  service: z.string().min(1),
  command: z.array(z.string()).default([]),
  entrypoint: z.array(z.string()).optional(),
  env: env.default({}),
  volumes: z.array(z.strictObject({ source: z.string().min(1), target: z.string().startsWith('/'), readOnly: z.boolean() })).default([]),
  ports: z
    .array(
      z.strictObject({
        hostPort: z.number().int().min(1).max(65535),
        containerPort: z.number().int().min(1).max(65535),
        protocol: z.enum(['tcp', 'udp']),
      }),
    )
    .default([]),
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/).optional(),
  user: z.string().optional(),
  workingDir: z.string().optional(),
  tty: z.boolean().default(false),
  interactive: z.boolean().default(true),
  detach: z.boolean().default(false),
  rm: z.boolean().optional(),
  noDeps: z.boolean().default(false),
  dockerConfig: z.string().optional(),
  labels: safeRecord(z.string()).optional(),
  capAdd: z.array(z.string().min(1)).optional(),
  capDrop: z.array(z.string().min(1)).optional(),
  useAliases: z.boolean().optional(),
  build: z.enum(['always', 'never']).optional(),
});

export const RmRequestSchema = z.strictObject({
  services,
  stop: z.boolean().default(false),
  volumes: z.boolean().default(false),
  dryRun: z.boolean().default(false),
});

/** The `request` query parameter of the upgrade GET /v1/projects/:name/exec. */
export const ExecRequestSchema = z.strictObject({
  service: z.string().min(1),
  index,
  command: z.array(z.string()).min(1),
  tty: z.boolean().default(false),
  stdin: z.boolean().default(false),
  detach: z.boolean().default(false),
  user: z.string().optional(),
  workingDir: z.string().optional(),
  env: env.default({}),
  privileged: z.boolean().default(false),
});

/** The `request` query parameter of the upgrade GET /v1/projects/:name/attach. */
export const AttachRequestSchema = z.strictObject({
  container: z.string().min(1),
  rm: z.boolean().default(false),
  tty: z.boolean().default(false),
  stdin: z.boolean().default(false),
});

/** The `request` query parameter of GET/PUT /v1/projects/:name/archive. */
export const ArchiveRequestSchema = z.strictObject({ service: z.string().min(1), index, path: z.string().startsWith('/') });
/** `cmesh fault`: faults for one service; without `faults` the run-time faults are cleared. */
export const FaultRequestSchema = z.strictObject({ service: z.string().min(1), faults: z.optional(FaultSchema) });

/** The body schema of each `POST /v1/projects/:name/<action>`; an action missing here has no route. */
export const projectActionSchemas = {
  up: UpRequestSchema,
  build: BuildRequestSchema,
  pull: PullRequestSchema,
  sync: SyncRequestSchema,
  down: DownRequestSchema,
  scale: ScaleRequestSchema,
  stop: ServicesRequestSchema,
  start: ServicesRequestSchema,
  restart: ServicesRequestSchema,
  kill: ReplicaRequestSchema,
  drain: DrainRequestSchema,
  pause: ServiceSelectionSchema,
  unpause: ServiceSelectionSchema,
  signal: KillRequestSchema,
  port: PortRequestSchema,
  top: ServiceSelectionSchema,
  images: ServiceSelectionSchema,
  run: RunRequestSchema,
  rm: RmRequestSchema,
  fault: FaultRequestSchema,
} as const;
export type ProjectAction = keyof typeof projectActionSchemas;

/** `cmesh cert issue NAME`: the name becomes the certificate's CN and its file names under CMESH_HOME/certs/. */
export const CertIssueRequestSchema = z.strictObject({ name: z.string().regex(CERT_NAME, 'letters, digits, ".", "_" and "-", up to 64') });

/** The body schema of each `POST /v1/<route>` outside a project (the local CA); the others there take no body. */
export const daemonActionSchemas = { 'tls/certs': CertIssueRequestSchema } as const;

// Compile-time pins: each line fails `tsc` when a schema and its contract type drift apart.
true satisfies Same<z.output<typeof UpRequestSchema>, UpRequest>;
true satisfies Same<z.output<typeof BuildRequestSchema>, BuildRequest>;
true satisfies Same<z.output<typeof PullRequestSchema>, PullRequest>;
true satisfies Same<z.output<typeof SyncRequestSchema>, SyncRequest>;
true satisfies Same<z.output<typeof DownRequestSchema>, DownRequest>;
true satisfies Same<z.output<typeof ScaleRequestSchema>, ScaleRequest>;
true satisfies Same<z.output<typeof ServicesRequestSchema>, ServicesRequest>;
true satisfies Same<z.output<typeof ReplicaRequestSchema>, ReplicaRequest>;
true satisfies Same<z.output<typeof DrainRequestSchema>, DrainRequest>;
true satisfies Same<z.output<typeof ServiceSelectionSchema>, ServiceSelection>;
true satisfies Same<z.output<typeof KillRequestSchema>, KillRequest>;
true satisfies Same<z.output<typeof PortRequestSchema>, PortRequest>;
true satisfies Same<z.output<typeof RunRequestSchema>, RunRequest>;
true satisfies Same<z.output<typeof RmRequestSchema>, RmRequest>;
true satisfies Same<z.output<typeof ExecRequestSchema>, ExecRequest>;
true satisfies Same<z.output<typeof AttachRequestSchema>, AttachRequest>;
true satisfies Same<z.output<typeof ArchiveRequestSchema>, ArchiveRequest>;
true satisfies Same<z.output<typeof FaultRequestSchema>, FaultRequest>;
true satisfies Same<z.output<typeof CertIssueRequestSchema>, CertIssueRequest>;
