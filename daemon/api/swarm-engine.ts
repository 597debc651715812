// The Swarm port: services, tasks, overlay networks, secrets and configs of a Docker Swarm, beside ContainerEngine.
// Spec shapes follow the Engine API's own field names (a typed subset), so a golden of what cmesh sends reads like the
// API docs and the dockerode adapter stays a thin mapping. Implemented by daemon/engine/dockerode-swarm.ts and the
// in-memory daemon/engine/fake-swarm.ts; daemon/engine/swarm-contract.ts holds both to the same semantics.

import { CmeshError } from './errors.ts';

/** This engine's place in a swarm: only an `active` manager can deploy services. */
export interface SwarmStatus {
  /** Engine API `Swarm.LocalNodeState`. */
  state: 'inactive' | 'pending' | 'active' | 'error' | 'locked';
  /** `Swarm.ControlAvailable`: this node is a manager. */
  manager: boolean;
  nodeId?: string;
  /** Managers and nodes the cluster knows of (1 on a single-node swarm); absent on a worker. */
  nodes?: number;
}

export interface SwarmPortSpec {
  Protocol: 'tcp' | 'udp';
  TargetPort: number;
  /** Absent with PublishMode host: the engine picks a free port per task (read back from the task's status). */
  PublishedPort?: number;
  PublishMode: 'host' | 'ingress';
}

export interface SwarmHealthcheck {
  Test: string[];
  /** Nanoseconds, as the Engine API wants them. */
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
}

export interface SwarmFileRef {
  /** The file inside the container: `/run/secrets/<name>` or the config's target. */
  File: { Name: string; UID: string; GID: string; Mode: number };
  /** Filled by the daemon after the secret/config exists. */
  SecretID?: string;
  ConfigID?: string;
  SecretName?: string;
  ConfigName?: string;
}

/** A ContainerSpec mount (Engine API 1.41 fields): a named or anonymous volume, a bind, a tmpfs. */
export interface SwarmMount {
  Type: 'volume' | 'bind' | 'tmpfs';
  /** Volume name (Swarm creates it on the task's node when missing) or host path; absent for anonymous and tmpfs. */
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string; Options?: Record<string, string> } };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

export interface SwarmContainerSpec {
  /** Always an image ID (`sha256:…`) or a digest reference: a tag makes Swarm try a registry pull at each task start. */
  Image: string;
  Labels: Record<string, string>;
  Command?: string[];
  Args?: string[];
  Env: string[];
  Dir?: string;
  User?: string;
  StopSignal?: string;
  /** Nanoseconds. */
  StopGracePeriod?: number;
  Healthcheck?: SwarmHealthcheck;
  Secrets?: SwarmFileRef[];
  Configs?: SwarmFileRef[];
  Init?: boolean;
  Hostname?: string;
  /** `IP hostname` lines, as Swarm writes them to /etc/hosts. */
  Hosts?: string[];
  DNSConfig?: { Nameservers?: string[]; Search?: string[]; Options?: string[] };
  ReadOnly?: boolean;
  TTY?: boolean;
  OpenStdin?: boolean;
  Groups?: string[];
  /** Engine API 1.40. */
  Sysctls?: Record<string, string>;
  /** Engine API 1.41. */
  CapabilityAdd?: string[];
  CapabilityDrop?: string[];
  Ulimits?: { Name: string; Soft: number; Hard: number }[];
  Mounts?: SwarmMount[];
}

export interface SwarmServiceSpec {
  Name: string;
  Labels: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: SwarmContainerSpec;
    RestartPolicy: { Condition: 'none' | 'on-failure' | 'any'; MaxAttempts?: number; Delay?: number; Window?: number };
    Resources?: {
      Limits?: { NanoCPUs?: number; MemoryBytes?: number; Pids?: number };
      Reservations?: { NanoCPUs?: number; MemoryBytes?: number };
    };
    Networks: { Target: string; Aliases: string[] }[];
    LogDriver?: { Name: string; Options?: Record<string, string> };
    /** Bumped to restart every task (rolling, per UpdateConfig) without any other change: `cmesh restart`. */
    ForceUpdate?: number;
  };
  Mode: { Replicated: { Replicas: number } };
  UpdateConfig: { Parallelism: number; Order: 'start-first' | 'stop-first'; FailureAction: 'rollback' | 'pause' | 'continue'; Monitor?: number };
  RollbackConfig?: { Parallelism: number; Order: 'start-first' | 'stop-first' };
  EndpointSpec: { Mode: 'vip' | 'dnsrr'; Ports: SwarmPortSpec[] };
}

export interface SwarmServiceInfo {
  id: string;
  /** The object version an update must name (optimistic concurrency). */
  version: number;
  spec: SwarmServiceSpec;
}

export type SwarmTaskState =
  | 'new'
  | 'allocated'
  | 'pending'
  | 'assigned'
  | 'accepted'
  | 'preparing'
  | 'ready'
  | 'starting'
  | 'running'
  | 'complete'
  | 'shutdown'
  | 'failed'
  | 'rejected'
  | 'remove'
  | 'orphaned';

export interface SwarmTaskInfo {
  id: string;
  serviceId: string;
  /** Replica slot, 1-based. */
  slot: number;
  nodeId: string;
  state: SwarmTaskState;
  desiredState: SwarmTaskState;
  /** The task's error or status message (`Status.Err` or `Status.Message`). */
  message: string;
  containerId?: string;
  /** The container labels of the task's spec (ContainerSpec.Labels). */
  labels: Record<string, string>;
  /** Host-mode published ports the engine chose, from `Status.PortStatus`. */
  ports: { targetPort: number; publishedPort: number; protocol: 'tcp' | 'udp' }[];
  /** Image of the task's spec, as deployed (an ID when cmesh deployed it). */
  image: string;
}

/** A node of the swarm, for messages that name it. */
export interface SwarmNodeInfo {
  id: string;
  /** `Description.Hostname`. */
  hostname: string;
  /** `Status.Addr`: the address the node reaches the managers from. */
  addr: string;
}

export interface SwarmNetworkSpec {
  name: string;
  labels: Record<string, string>;
  /** Overlay networks cmesh creates are attachable, so the proxy (or a debugging container) can join them. */
  attachable: true;
  internal?: boolean;
}

export interface SwarmNetworkInfo {
  id: string;
  name: string;
  driver: string;
  scope: string;
  attachable: boolean;
  labels: Record<string, string>;
}

export interface SwarmObjectSpec {
  name: string;
  labels: Record<string, string>;
  /** Bytes of the secret or config; the engine keeps secrets encrypted and never returns their data. */
  data: Buffer;
}

export interface SwarmObjectInfo {
  id: string;
  name: string;
  labels: Record<string, string>;
}

export type SwarmObjectKind = 'secret' | 'config';

export type LabelQuery = Record<string, string | true>;

/** What an engine event stream of the swarm carries: `task` = a task container on this node, `service` = a service. */
export type SwarmEventKind = 'task' | 'service';

export interface SwarmEvent {
  kind: SwarmEventKind;
  /** The engine's action: create/start/die/stop/destroy/`health_status: healthy`… for tasks, create/update/remove for services. */
  action: string;
  /** The container's ID (task) or the service's ID. */
  id: string;
  /**
   * Actor.Attributes: a task container's labels (its ContainerSpec.Labels and Swarm's com.docker.swarm.*) beside
   * name/exitCode; a service's name and what an update changed (`updatestate.new`, `replicas.new`, `image.new`…).
   */
  attributes: Record<string, string>;
  /** Epoch ms. */
  time: number;
}

export interface SwarmEngine {
  /** Never throws for a non-swarm engine: `state: 'inactive'` says so. */
  swarmStatus(): Promise<SwarmStatus>;

  listServices(labels: LabelQuery): Promise<SwarmServiceInfo[]>;
  inspectService(idOrName: string): Promise<SwarmServiceInfo | undefined>;
  /** 409 name taken = CMESH_E_NAME_CONFLICT. */
  createService(spec: SwarmServiceSpec): Promise<SwarmServiceInfo>;
  /** `version` from the last inspect; a stale version is CMESH_E_ENGINE (re-list and retry, level-triggered). */
  updateService(id: string, version: number, spec: SwarmServiceSpec): Promise<void>;
  /** 404 gone = success. */
  removeService(idOrName: string): Promise<void>;

  /** Tasks of services carrying `labels`, every state (the caller filters on desiredState). */
  listTasks(labels: LabelQuery): Promise<SwarmTaskInfo[]>;

  /**
   * Live engine events of one kind until `signal` aborts: `task` = lifecycle of the containers carrying `labels` (the
   * task containers on this node: Swarm copies ContainerSpec.Labels onto them); `service` = every service of the swarm
   * (the engine puts no labels on service events, so `labels` is not applied: callers match the service ID). Throws
   * CMESH_E_ENGINE_UNAVAILABLE when the stream is lost; it never ends on its own. With `since` (epoch ms, as in
   * SwarmEvent.time) the stream first replays the engine's buffered events at or after it (Docker keeps the last 256
   * in memory), then goes live: a reconnect asks from its last event's time and skips what it already had.
   */
  events(options: { kind: SwarmEventKind; labels: LabelQuery; signal: AbortSignal; since?: number }): AsyncIterable<SwarmEvent>;

  /** A node by ID; undefined when the swarm does not know it (a manager only). */
  inspectNode(id: string): Promise<SwarmNodeInfo | undefined>;

  /** Swarm-scoped overlays; one just created or removed may take a moment to (dis)appear here. */
  listNetworks(labels: LabelQuery): Promise<SwarmNetworkInfo[]>;
  /** An overlay, swarm-scoped; 409 name taken = CMESH_E_NAME_CONFLICT. */
  createNetwork(spec: SwarmNetworkSpec): Promise<SwarmNetworkInfo>;
  /** 404 gone = success. */
  removeNetwork(idOrName: string): Promise<void>;

  listObjects(kind: SwarmObjectKind, labels: LabelQuery): Promise<SwarmObjectInfo[]>;
  /** Secrets and configs are immutable: a change is a new object under a new name. 409 = CMESH_E_NAME_CONFLICT. */
  createObject(kind: SwarmObjectKind, spec: SwarmObjectSpec): Promise<SwarmObjectInfo>;
  /** 404 gone = success; in use by a service = CMESH_E_ENGINE. */
  removeObject(kind: SwarmObjectKind, idOrName: string): Promise<void>;

  /**
   * Tags the local image `source` as `repo:tag` and pushes it, for nodes that do not have it: resolves to the pushed
   * manifest's digest (`sha256:…`), which a service can name as `repo@digest`. An error line in the push stream
   * fails it (CMESH_E_PUSH_FAILED), even after HTTP 200.
   */
  pushImage(source: string, repo: string, tag: string): Promise<string>;
}

/** The swarm target on an engine that is no swarm manager; the adapter's status check and the 503 rule share it. */
export function swarmNotManager(engineMessage: string, details: Record<string, unknown> = {}): CmeshError {
  return new CmeshError('CMESH_E_SWARM_NOT_MANAGER', `the swarm target needs a swarm manager, and this engine is not one (${engineMessage})`, {
    hint: 'run `docker swarm init --advertise-addr <this host\'s IP>` to make this engine a single-node swarm, or `docker swarm join --token <token> <manager>:2377` and point DOCKER_HOST at a manager',
    details: { ...details, engineMessage },
  });
}
