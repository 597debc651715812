// The normalized, typed project model: what the config loader produces and the daemon reconciles toward.
// Every field is resolved (interpolated, defaults applied, short syntax expanded) so consumers never re-parse.

import type { ContainerOptions, ExtraHost, Ulimit } from './container-options.ts';
import type { SourcePosition } from './errors.ts';
import type { MeshSpec } from './mesh-spec.ts';
import type { FileGrant, FileSource, NetworkSpec, ServiceNetwork, VolumeSpec } from './project-resources.ts';
import type { Target } from './target.ts';

// The model's parts that live in their own files, re-exported so `project.ts` stays the one name to import.
export type { HealthProbe, LbStrategy, MeshSpec, Protocol } from './mesh-spec.ts';
export type { FileGrant, FileSource, IpamPool, IpamSpec, NetworkSpec, ServiceNetwork, VolumeSpec } from './project-resources.ts';

export type RestartPolicy = 'no' | 'always' | 'on-failure' | 'unless-stopped';
export type DependsCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';
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
  /** Classic-builder parameters (Engine build API): RUN steps' /etc/hosts, network, /dev/shm and ulimits. */
  extraHosts?: ExtraHost[];
  network?: string;
  shmSizeBytes?: number;
  ulimits?: Record<string, Ulimit>;
  /** `pull: true`: always pull the FROM images. */
  pull?: boolean;
  /** `tags`: extra names for the built image. */
  tags?: string[];
  /** `cache_from`: images the classic builder may take layers from. */
  cacheFrom?: string[];
  /** The one entry of `platforms` (the classic builder builds one platform). */
  platform?: string;
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
  /** Bind: create the host path if missing (short syntax always; long syntax unless `create_host_path: false`). */
  createHostPath?: boolean;
  /** Bind `propagation` (`rprivate`, `shared`, `rslave`…). */
  propagation?: 'rprivate' | 'private' | 'rshared' | 'shared' | 'rslave' | 'slave';
  /** Bind `recursive` when not the default `enabled`: submounts not mounted, or made read-only (or not) with the bind. */
  recursive?: 'disabled' | 'writable' | 'readonly';
  /** Bind SELinux relabel: `z` shared, `Z` private (`:z`/`:Z` or `bind.selinux`). */
  selinux?: 'z' | 'Z';
  /** Volume `nocopy`: do not copy the image's content at the target into a new volume. */
  noCopy?: boolean;
  /** Volume `subpath`: mount only this path inside the volume. */
  subpath?: string;
  /** Volume `labels`: put on the volume when the engine creates it for this mount (anonymous, or named and missing). */
  volumeLabels?: Record<string, string>;
  /** tmpfs `size` in bytes and `mode` (e.g. 0o1777). */
  tmpfsSizeBytes?: number;
  tmpfsMode?: number;
}

export interface WatchRule {
  action: 'sync' | 'rebuild' | 'sync+restart' | 'restart' | 'sync+exec';
  /** Absolute host path. */
  path: string;
  target?: string;
  ignore: string[];
  /** Only paths matching one of these patterns (.dockerignore syntax) trigger the rule. */
  include?: string[];
  /** sync actions: copy the whole path into the replicas when watching starts. */
  initialSync?: boolean;
  /** sync+exec: the command run in every replica after a sync (same shape as a lifecycle hook). */
  exec?: LifecycleHook;
}

/** One loaded `env_file` entry: the values it contributed, before `environment:` overrides them. */
export interface EnvFileValues {
  /** Absolute path of the file. */
  file: string;
  values: Record<string, string>;
}

/** One `post_start` / `pre_stop` command; cmesh runs it in each replica through the exec API, as Compose v2 does. */
export interface LifecycleHook {
  command: string[];
  user?: string;
  privileged?: boolean;
  workingDir?: string;
  environment: Record<string, string>;
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
  /** Final environment: the `env_file` values with `environment:` on top. */
  environment: Record<string, string>;
  /** The `env_file` entries that were read, in order (exporters keep them apart from `environment:`); absent when none. */
  envFiles?: EnvFileValues[];
  ports: PortMapping[];
  /** Container ports from `expose`; published on 127.0.0.1 with an engine-assigned port. */
  expose: number[];
  /**
   * TCP ports of the image's `EXPOSE`, read by the daemon once the image is local (after pull/build, at `up`), for the
   * east-west mesh only (never published). Undefined: not read yet (`cmesh config`, or an image not present).
   */
  imageExpose?: number[];
  replicas: number;
  healthcheck?: HealthcheckSpec;
  dependsOn: Record<string, DependsOn>;
  restart: RestartPolicy;
  /** Max restarts for on-failure[:N] (or deploy.restart_policy.max_attempts); undefined = unlimited. */
  restartMaxRetries?: number;
  /** deploy.restart_policy.delay: this fixed wait between restarts replaces the exponential backoff. */
  restartDelayMs?: number;
  /** deploy.restart_policy.window: a replica that ran this long counts as recovered; its attempt count starts over. */
  restartWindowMs?: number;
  /** deploy.update_config as cmesh's rollout reads it: replicas rolled at once, and stop-first vs start-first. */
  update?: { parallelism?: number; order?: 'start-first' | 'stop-first' };
  /** Run after each replica starts, before it counts as started; a failure fails the start. */
  postStart?: LifecycleHook[];
  /** Run before each replica is stopped; a failure is a warning and the stop goes on. */
  preStop?: LifecycleHook[];
  labels: Record<string, string>;
  volumes: VolumeMount[];
  /** Network name (project-level key) → how the service joins it. */
  networks: Record<string, ServiceNetwork>;
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
  /** `use_api_socket: true`: the engine socket and the user's registry credentials inside the container (api-socket.ts). */
  useApiSocket?: true;
  /** Compose `attach: false`: the foreground `up` does not stream this service's logs (`cmesh logs` still shows them). */
  attach?: false;
  /** Where the service was declared, for error messages after load. */
  position?: SourcePosition;
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
  /**
   * East-west: callers reach meshed services by name through the gateway. The loader sets it (true unless
   * `x-cmesh.east_west: false`); a spec built by hand without it is off.
   */
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
