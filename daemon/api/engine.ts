// The one engine port: everything the daemon needs from Docker, in cmesh's words. Only daemon/engine implements it.

import type { Readable } from 'node:stream';
import type { ContainerOptions } from './container-options.ts';
import type { AttachOptions, ExecIoSpec, IoSession } from './engine-io.ts';
import type { BuildOptions, BuildProgress, ImageInfo, ImageSummary, PullOptions, PullProgress } from './engine-images.ts';
import type { NetworkCreateSpec, NetworkInfo, VolumeCreateSpec, VolumeInfo } from './engine-storage.ts';
import type { HealthcheckSpec, ServiceNetwork, VolumeMount } from './project.ts';

// The image side of the port lives in engine-images.ts; re-exported so `engine.ts` stays the one name to import.
export {
  type BuildOptions,
  type BuildProgress,
  type ExposedPort,
  type ImageInfo,
  type ImageSummary,
  parseExposedPorts,
  type PullOptions,
  type PullProgress,
  type RegistryAuth,
} from './engine-images.ts';
// Networks and volumes likewise.
export type { NetworkCreateSpec, NetworkInfo, VolumeCreateSpec, VolumeInfo } from './engine-storage.ts';

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
export type ContainerHealth = 'none' | 'starting' | 'healthy' | 'unhealthy';

/** A container port bound on the host; cmesh always binds 127.0.0.1 with an engine-assigned port. */
export interface Endpoint {
  containerPort: number;
  protocol: 'tcp' | 'udp';
  host: string;
  hostPort: number;
  /**
   * The container's own address on a project bridge network (`hostPort` is then the container port): nothing is
   * published for it. Without it the endpoint is a port the engine published on loopback.
   */
  direct?: true;
}

export interface ContainerInfo {
  id: string;
  /** Without the leading slash. */
  name: string;
  image: string;
  /** Image id (sha256:…) the container runs, when known. */
  imageId?: string;
  state: ContainerState;
  health: ContainerHealth;
  /**
   * Set only when cmesh's start probe already passed while Docker's first healthcheck has not run yet: `health` then
   * says healthy and this keeps what Docker reports (starting), for `ps` and `dash`.
   */
  engineHealth?: ContainerHealth;
  labels: Record<string, string>;
  /** Epoch ms. */
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /**
   * From a list only (which has no StartedAt): how long the current run had lasted when listed, at least (the engine's
   * `Up 5 minutes`, rounded down to its unit). Set for a running or paused container whose status says.
   */
  upForMs?: number;
  exitCode?: number;
  /** The engine's own restart count (restart policy); cmesh keeps its own in the supervisor. */
  restartCount: number;
  endpoints: Endpoint[];
  /**
   * Engine networks it is on; `aliases` only from inspect (the list API has none), without the engine's short id;
   * `address` (its IP address there) only from inspect of a running container.
   */
  networks?: { name: string; aliases?: string[]; address?: string }[];
}

export interface MountSpec {
  type: 'bind' | 'volume' | 'tmpfs';
  /** Host path (bind) or engine volume name (volume). */
  source?: string;
  target: string;
  readOnly: boolean;
  /** Bind: the engine creates a missing host path (sent as a `Binds` string, which also carries selinux). */
  createHostPath?: boolean;
  propagation?: VolumeMount['propagation'];
  recursive?: VolumeMount['recursive'];
  selinux?: VolumeMount['selinux'];
  noCopy?: boolean;
  subpath?: string;
  volumeLabels?: Record<string, string>;
  tmpfsSizeBytes?: number;
  tmpfsMode?: number;
}

/** One network endpoint of a container: the engine network's name and what the service asked of it. */
export interface EndpointSpec extends Omit<ServiceNetwork, 'priority'> {
  name: string;
  /** Legacy links (`external_links`) as `container:alias`, resolved by the engine for this container only. */
  links?: string[];
}

export interface ContainerCreateSpec {
  name: string;
  image: string;
  command?: string[];
  entrypoint?: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  /** Container ports to publish on 127.0.0.1 with an engine-assigned host port (or `hostPort`, `cmesh run -p`). */
  ports: { containerPort: number; protocol: 'tcp' | 'udp'; hostPort?: number }[];
  /**
   * A project bridge network the daemon can reach this replica on at its own address. An engine that reaches
   * containers directly (replica-reach.ts) then publishes none of `ports` without a fixed `hostPort`, and reports them
   * as `direct` endpoints on this network. Not part of the spec hash: a replica made either way stays as it is.
   */
  reachNetwork?: string;
  healthcheck?: HealthcheckSpec;
  mounts: MountSpec[];
  /** Engine networks in connect order; the first is attached at create, the rest connected before start. */
  networks: EndpointSpec[];
  workingDir?: string;
  user?: string;
  stopSignal?: string;
  stopTimeoutSec?: number;
  hostname?: string;
  /** Docker's tini as PID 1 so signals reach the app and zombies are reaped. */
  init: boolean;
  /** `cmesh run`: a pseudo-terminal, and stdin kept open for an attach (both off for replicas). */
  tty?: boolean;
  openStdin?: boolean;
  /** `cmesh run --rm -d`: the engine removes the container once it exits (HostConfig.AutoRemove). */
  autoRemove?: boolean;
  /** The service's engine-level options, namespace references already resolved to container names. */
  options?: ContainerOptions;
}

/** A container's processes as `ps` inside it sees them (`docker top`): column titles and one row per process. */
export interface ProcessList {
  titles: string[];
  processes: string[][];
}

export interface EngineInfo {
  version: string;
  apiVersion: string;
  os: string;
  /** How the engine was reached, e.g. unix:///var/run/docker.sock. */
  host: string;
}

/** An engine event the reconcile loop wakes on; it never acts on the event's content alone (level-triggered). */
export interface EngineEvent {
  type: 'container' | 'network' | 'volume' | 'image';
  action: string;
  id: string;
  labels: Record<string, string>;
  /** Raw Actor.Attributes (labels plus engine keys such as name, image, exitCode, signal), when the engine sent them. */
  attributes?: Record<string, string>;
  /** Epoch ms. */
  time: number;
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  /** Epoch ms from the engine timestamp when requested, else receipt time. */
  time: number;
  text: string;
}

export interface LogOptions {
  follow: boolean;
  tail?: number;
  since?: number;
  signal?: AbortSignal;
}

/** How an exec runs; every field is optional and falls back to the container's own setting (Docker's exec API). */
export interface ExecOptions {
  /** `user[:group]` (ExecConfig.User). */
  user?: string;
  /** ExecConfig.WorkingDir. */
  workingDir?: string;
  /** Added to the container's environment for this command (ExecConfig.Env). */
  env?: Record<string, string>;
  /** Extended privileges for this command (ExecConfig.Privileged). */
  privileged?: boolean;
  /** Stop waiting after this long; the process may still run (see ExecResult.stillRunning). */
  timeoutMs?: number;
  /** Stop waiting on abort: answers like a timeout. */
  signal?: AbortSignal;
}

export interface ExecResult {
  /** The process's exit code; -1 when the wait ended first (`timedOut`). */
  exitCode: number;
  output: string;
  /** The wait ended (timeout or abort) before the process did. */
  timedOut?: true;
  /** Only with `timedOut`: whether the abandoned process still runs in the container (false once it is gone). */
  stillRunning?: () => Promise<boolean>;
}

export interface ContainerFilter {
  /** label → value, or true to match the label's presence. */
  labels: Record<string, string | true>;
  /** Include stopped containers (default true: observe must see everything). */
  all?: boolean;
}

export interface ContainerEngine {
  /** Throws CMESH_E_ENGINE_UNAVAILABLE with a hint to run scripts/ensure-docker.sh. */
  ping(): Promise<EngineInfo>;

  listContainers(filter: ContainerFilter): Promise<ContainerInfo[]>;
  /** undefined when the container is gone (404). */
  inspectContainer(id: string): Promise<ContainerInfo | undefined>;
  /** 409 name conflict → CMESH_E_NAME_CONFLICT with details.existingId. Missing image → CMESH_E_IMAGE_MISSING. */
  createContainer(spec: ContainerCreateSpec): Promise<{ id: string }>;
  /** 304 already started = success. Port conflicts → CMESH_E_PORT_TAKEN. */
  startContainer(id: string): Promise<void>;
  /** 304 already stopped and 404 gone = success. */
  stopContainer(id: string, timeoutSec?: number): Promise<void>;
  killContainer(id: string, signal?: string): Promise<void>;
  /** 404 gone = success. */
  removeContainer(id: string, options?: { force?: boolean; volumes?: boolean }): Promise<void>;
  /** Renames a container (start-first rollouts promote `<name>-next`); 409 → CMESH_E_NAME_CONFLICT. */
  renameContainer(id: string, name: string): Promise<void>;
  pauseContainer(id: string): Promise<void>;
  unpauseContainer(id: string): Promise<void>;
  /** The container's processes (`cmesh top`); a container that is not running is CMESH_E_ENGINE (409). */
  topContainer(id: string): Promise<ProcessList>;
  /** Demultiplexed log lines; ends when the container stops (follow) or at the end (no follow), or on abort. */
  containerLogs(id: string, options: LogOptions): AsyncIterable<LogLine>;
  /** Extracts a tar into the container at `path` (watch sync). */
  putArchive(id: string, path: string, tar: Readable): Promise<void>;
  /**
   * Runs a command in the container and returns its exit code and output (watch sync+exec, deletes, start probes).
   * With `timeoutMs` it gives up waiting after that long and answers `timedOut`; the engine cannot kill an exec'd
   * process, so the answer carries `stillRunning()` (one exec inspect) for callers that must not pile processes up.
   */
  exec(id: string, command: string[], options?: ExecOptions): Promise<ExecResult>;
  /** `cmesh exec`: a process with its stdio as a session (engine-io.ts). A stopped container is CMESH_E_ENGINE (409). */
  execIo(id: string, spec: ExecIoSpec): Promise<IoSession>;
  /** `cmesh run`: the container's own stdio; attach before start so no output is lost. exitCode() waits for its exit. */
  attachContainer(id: string, options: AttachOptions): Promise<IoSession>;
  /** The exit code once the container is not running (at once when it already stopped). 404 → CMESH_E_ENGINE. */
  waitContainer(id: string): Promise<number>;
  /** A tar of `path` in the container (its last element as the tar's root entry); a missing path is CMESH_E_ENGINE (404). */
  getArchive(id: string, path: string): Promise<Readable>;

  listNetworks(labels: Record<string, string | true>): Promise<NetworkInfo[]>;
  inspectNetwork(name: string): Promise<NetworkInfo | undefined>;
  /** 409 exists → returns the existing network when its labels match, else CMESH_E_NAME_CONFLICT. */
  createNetwork(spec: NetworkCreateSpec): Promise<NetworkInfo>;
  /** 404 gone = success. */
  removeNetwork(name: string): Promise<void>;
  /** Attaches a (running) container with these aliases; already attached = success. A missing network: CMESH_E_ENGINE. */
  connectNetwork(containerId: string, network: string, aliases: string[]): Promise<void>;
  /** Detaches it; not attached, or the network gone = success. */
  disconnectNetwork(containerId: string, network: string): Promise<void>;

  listVolumes(labels: Record<string, string | true>): Promise<VolumeInfo[]>;
  inspectVolume(name: string): Promise<VolumeInfo | undefined>;
  createVolume(spec: VolumeCreateSpec): Promise<VolumeInfo>;
  /** 404 gone = success. */
  removeVolume(name: string): Promise<void>;

  /** undefined when the image is not present locally. Never pulls (pullImage does). */
  inspectImage(ref: string): Promise<ImageInfo | undefined>;
  /** Local images carrying every given label (a summary: the engine's image list has no ExposedPorts). */
  listImages(labels: Record<string, string | true>): Promise<ImageSummary[]>;
  /**
   * Removes an image by tag or id; absent is success. Never forced: an image a container (of any state) still uses is
   * refused with CMESH_E_ENGINE, details.reason "in-use", and stays.
   */
  removeImage(ref: string): Promise<void>;
  /**
   * Puts `tag` (`repo:tag`) on the image `ref`; a tag it already has is put again, which refreshes its lastTagTime (how
   * a daemon marks a gateway image as in use by it). A missing image: CMESH_E_ENGINE.
   */
  tagImage(ref: string, tag: string): Promise<void>;
  /**
   * Pulls `ref`, streaming parsed progress. Throws CMESH_E_IMAGE_NOT_FOUND (no such repository/tag),
   * CMESH_E_PULL_UNAUTHORIZED (credentials missing or refused) or CMESH_E_PULL_FAILED (unreachable, stalled, anything
   * else), each naming the image, whether the engine said so in the HTTP status or in an errorDetail line.
   */
  pullImage(options: PullOptions): AsyncIterable<PullProgress>;
  /** Streams parsed build progress; the iterator throws CMESH_E_BUILD_FAILED on an error line. */
  buildImage(options: BuildOptions): AsyncIterable<BuildProgress>;

  /**
   * Engine events: cmesh-managed objects, plus every container's network connect/disconnect (those carry no labels: a
   * replica reached at its own address leaves rotation on a disconnect). Ends on abort or when the connection drops
   * (caller reconnects).
   */
  events(options: { signal: AbortSignal; since?: number }): AsyncIterable<EngineEvent>;
}
