// The normalized, typed project model: what the config loader produces and the daemon reconciles toward.
// Every field is resolved (interpolated, defaults applied, short syntax expanded) so consumers never re-parse.

import type { ContainerOptions } from './container-options.ts';
import type { SourcePosition } from './errors.ts';
import type { Target } from './target.ts';

export type RestartPolicy = 'no' | 'always' | 'on-failure' | 'unless-stopped';
export type DependsCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';
export type LbStrategy = 'round-robin' | 'random' | 'weighted' | 'p2c' | 'ewma' | 'ring-hash';
export type Protocol = 'http' | 'tcp';
/** Compose `pull_policy`; `if_not_present` is read as `missing`, `every_<duration>` keeps its duration text. */
export type PullPolicy = 'missing' | 'always' | 'never' | 'build' | 'daily' | 'weekly' | `every_${string}`;

export interface PortMapping {
  /** Container port. */
  target: number;
  /** Host port the mesh proxy listens on; undefined = container port is only exposed (engine-assigned). */
  published?: number;
  /** Compose `80-90:8080` (one container port, a host range): the last host port; the proxy takes the first free one. */
  publishedEnd?: number;
  /** Address the proxy binds for the published port; cmesh defaults to 127.0.0.1 (unlike Compose). */
  hostIp?: string;
  protocol: 'tcp' | 'udp';
  /** Long syntax `name` / `app_protocol`, kept for display. */
  name?: string;
  appProtocol?: string;
  /** Long syntax `mode: ingress`: on the swarm target, Swarm's routing mesh publishes it instead of cmesh's proxy. */
  mode?: 'ingress';
}

export interface BuildSpec {
  /** Absolute path of the build context directory. */
  context: string;
  /** Dockerfile path relative to the context (Compose semantics), default `Dockerfile`. */
  dockerfile: string;
  /** `dockerfile_inline`: the Dockerfile's text; when set, `dockerfile` is not read. */
  dockerfileInline?: string;
  args: Record<string, string>;
  target?: string;
  labels: Record<string, string>;
  noCache?: boolean;
}

export interface HealthcheckSpec {
  /** Docker form: ['CMD', ...] | ['CMD-SHELL', '...'] | ['NONE']. */
  test: string[];
  intervalMs?: number;
  timeoutMs?: number;
  retries?: number;
  startPeriodMs?: number;
  startIntervalMs?: number;
  disable: boolean;
}

export interface DependsOn {
  condition: DependsCondition;
  restart: boolean;
  required: boolean;
}

export interface VolumeMount {
  type: 'bind' | 'volume' | 'tmpfs';
  /** Absolute host path for bind, volume name (project-scoped unless external) for volume, undefined for anonymous/tmpfs. */
  source?: string;
  target: string;
  readOnly: boolean;
  /** Bind: create the host path if missing (Compose short syntax does). */
  createHostPath?: boolean;
}

export interface WatchRule {
  action: 'sync' | 'rebuild' | 'sync+restart' | 'restart' | 'sync+exec';
  /** Absolute host path. */
  path: string;
  target?: string;
  ignore: string[];
}

export interface HealthProbe {
  /** HTTP path for an HTTP probe; undefined means a TCP connect probe. */
  path?: string;
  port?: number;
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
}

/** Our `x-cmesh` keys at service level, with defaults applied. */
export interface MeshSpec {
  lb: LbStrategy;
  protocol: Protocol;
  /** Per-replica weights (index 0 = replica 1); missing entries use `weight`. */
  weights: number[];
  weight: number;
  health: HealthProbe;
  retries: number;
  timeouts: { connectMs: number; requestMs: number; idleMs: number };
  /** Bind address override for published ports. */
  bind?: string;
  /** Consistent-hash key for lb=ring-hash: `header:<name>`, `cookie:<name>` or `ip`. */
  hashKey?: string;
  accessLog: boolean;
  /** `rollout.max_surge`: new replicas a start-first rollout starts at once; undefined = 1 (plan-rollout.ts). */
  rollout?: { maxSurge: number };
  /** True when health came from x-cmesh or was derived from the compose healthcheck, false when the TCP default. */
  healthExplicit: boolean;
  /** True when `protocol` was set in x-cmesh (east-west treats only a declared `http` as HTTP on unpublished ports). */
  protocolExplicit?: boolean;
  /** `x-cmesh.mesh: false`: the service opts out of the east-west mesh (plain Docker DNS). Undefined = meshed. */
  eastWest?: boolean;
  /** `x-cmesh.ports`: more container ports the east-west mesh serves besides `ports` and `expose`. */
  ports?: number[];
}

/** A top-level `secrets:` or `configs:` entry: where its bytes come from. Content is resolved at load time. */
export interface FileSource {
  name: string;
  kind: 'secret' | 'config';
  /** `file:` — absolute host path, bind-mounted read-only (so edits show up live, as in Compose). */
  file?: string;
  /** `environment:` — the variable's name (for display) and its value at load time. */
  environment?: string;
  /** `content:` (configs) or the `environment:` variable's value. Never logged, never put in an image. */
  content?: string;
}

/** A service's grant of a secret or config: the file it appears as inside the container. */
export interface FileGrant {
  source: string;
  /** Absolute path in the container (`/run/secrets/<name>` for secrets, `/<name>` for configs by default). */
  target: string;
  uid?: number;
  gid?: number;
  /** File mode, e.g. 0o444 (the default). */
  mode?: number;
}

export interface ServiceSpec {
  name: string;
  image?: string;
  build?: BuildSpec;
  /** Unset = Compose's default (pull when missing); `cmesh pull` treats unset and `missing` differently, as Compose does. */
  pullPolicy?: PullPolicy;
  /** `os/arch[/variant]` passed to the pull. */
  platform?: string;
  command?: string[];
  entrypoint?: string[];
  environment: Record<string, string>;
  ports: PortMapping[];
  /** Container ports from `expose`; published on 127.0.0.1 with an engine-assigned port. */
  expose: number[];
  replicas: number;
  healthcheck?: HealthcheckSpec;
  dependsOn: Record<string, DependsOn>;
  restart: RestartPolicy;
  /** Max restarts for on-failure[:N]; undefined = unlimited. */
  restartMaxRetries?: number;
  labels: Record<string, string>;
  volumes: VolumeMount[];
  /** Network name (project-level key) → aliases. */
  networks: Record<string, { aliases: string[] }>;
  workingDir?: string;
  user?: string;
  stopSignal?: string;
  stopGracePeriodMs: number;
  profiles: string[];
  watch: WatchRule[];
  mesh: MeshSpec;
  /** `secrets:` / `configs:` granted to the service; absent when none. */
  secrets?: FileGrant[];
  configs?: FileGrant[];
  /** Engine-level container options (capabilities, limits, DNS…); absent when the service sets none. */
  options?: ContainerOptions;
  /** Where the service was declared, for error messages after load. */
  position?: SourcePosition;
}

export interface NetworkSpec {
  name: string;
  /** Engine-level name (`<project>_<name>` unless `name:` or external). */
  engineName: string;
  external: boolean;
  driver?: string;
  internal: boolean;
  labels: Record<string, string>;
}

export interface VolumeSpec {
  name: string;
  engineName: string;
  external: boolean;
  driver?: string;
  labels: Record<string, string>;
}

export interface ProjectSpec {
  name: string;
  /** Absolute path of the project directory (first compose file's folder unless --project-directory). */
  workingDir: string;
  /** Absolute paths of the files merged, in order. */
  files: string[];
  services: Record<string, ServiceSpec>;
  networks: Record<string, NetworkSpec>;
  volumes: Record<string, VolumeSpec>;
  /** Top-level `secrets:` and `configs:`; absent when the file has none. */
  secrets?: Record<string, FileSource>;
  configs?: Record<string, FileSource>;
  /** Profiles that were active when loading. */
  profiles: string[];
  /** Top-level `x-*` keys other than x-cmesh, passed through untouched. */
  extensions: Record<string, unknown>;
  /** Top-level `x-cmesh.east_west: true`: callers reach meshed services by name through the gateway (preview). */
  eastWest?: boolean;
  /** Top-level `x-cmesh.target`; the CLI's --target and CMESH_TARGET override it (api/target.ts). */
  target?: Target;
  /** Top-level `x-cmesh.registry` (or `up --registry`): the swarm target pushes images there and deploys by digest. */
  registry?: string;
}

export interface ConfigWarning {
  message: string;
  path?: string;
  position?: SourcePosition;
}

export interface LoadedProject {
  project: ProjectSpec;
  warnings: ConfigWarning[];
  /** Which compose keys the loader honoured and which it ignored (what would differ from Compose). */
  keys?: KeyReport;
}

export interface KeyReport {
  /** How many keys of the compose model cmesh reads and acts on. */
  honoured: number;
  /** Paths of the keys it ignored (unsupported or unknown), in file order. */
  ignored: string[];
}
