// Control API contract between the CLI and the daemon: HTTP + JSON (NDJSON for streams) on a 0600 unix socket.

import type { Target } from './target.ts';
import type { ContainerHealth, ContainerState, Endpoint, EngineInfo } from './engine.ts';
import type { SerializedError } from './errors.ts';
import type { DaemonEvent } from './events.ts';
import type { ProjectSpec } from './project.ts';

/**
 * GET /v1/services?project= → ServiceTableRow[] (`cmesh services --json`). With `&readyWithinMs=N` (and optional
 * `&service=a&service=b`) a long-poll: answers once those services are ready in the mesh (meshReady) or after N ms.
 */
export type { ServiceTableRow, ReplicaTableRow } from './service-table.ts';
// Verbs whose contracts live in their own files, re-exported so `control.ts` stays the one name to import.
export type { ArchiveRequest, AttachRequest, ExecRequest, RunRequest, RunResult } from './container-io-control.ts';
export type { BuildRequest, BuildResult, PullRequest, PullResult, SyncExec, SyncRequest, SyncResult } from './image-control.ts';

export const CONTROL_API_VERSION = 'v1';

/** GET /v1/info */
export interface DaemonInfo {
  version: string;
  pid: number;
  home: string;
  socket: string;
  startedAt: number;
  engine: { ok: true; info: EngineInfo } | { ok: false; error: SerializedError };
  projects: number;
  metrics?: { url: string } | { error: string };
}

/** One row of `ps --json`: one replica container. */
export interface ReplicaStatus {
  project: string;
  service: string;
  replica: number;
  container: string;
  name: string;
  state: ContainerState;
  health: ContainerHealth;
  /** Docker's own health when cmesh's start probe already passed and Docker's first healthcheck has not run yet. */
  engineHealth?: ContainerHealth;
  endpoints: Endpoint[];
  /** Restarts done by cmesh's supervisor plus the engine's own. */
  restarts: number;
  image: string;
  createdAt: number;
  startedAt?: number;
  exitCode?: number;
}

/** One row of `ls`. */
export interface ProjectSummary {
  name: string;
  files: string[];
  services: number;
  running: number;
  total: number;
  status: string;
}

/** POST /v1/projects/:name/up */
export interface UpRequest {
  project: ProjectSpec;
  /** Only these services (plus their dependencies); empty = all. */
  services: string[];
  build: 'auto' | 'always' | 'never';
  /** Resolve only when every selected replica is running and healthy (or fail at timeoutMs). */
  wait: boolean;
  timeoutMs?: number;
  /** `--scale svc=N`: replaces that service's earlier scale override; services not named keep theirs. */
  scale?: Record<string, number>;
  /** The CLI's Docker config directory (DOCKER_CONFIG or ~/.docker): pull credentials are the invoking user's. */
  dockerConfig?: string;
  /** --target > CMESH_TARGET > x-cmesh.target, resolved by the CLI; absent = the project's current target, else local. */
  target?: Target;
}

/** POST /v1/projects/:name/down */
export interface DownRequest {
  volumes: boolean;
  removeOrphans: boolean;
}

/** The result of a `down` that found nothing to remove: not an error (Compose exits 0), so CI clean-up can always run it. */
export interface DownNothingResult {
  nothingToRemove: true;
}

/** POST /v1/projects/:name/scale */
export interface ScaleRequest {
  services: Record<string, number>;
  wait?: boolean;
  timeoutMs?: number;
}

/** POST /v1/projects/:name/{restart,stop,start} */
export interface ServicesRequest {
  services: string[];
  timeoutMs?: number;
}

/**
 * Long operations answer with an NDJSON stream of these frames; the last frame is `result` or `error`,
 * so the CLI can show progress and still get a typed outcome.
 */
export type OperationFrame =
  | { kind: 'event'; event: DaemonEvent }
  | { kind: 'progress'; text: string }
  | { kind: 'result'; value: unknown }
  | { kind: 'error'; error: SerializedError };

/** GET /v1/projects/:name/logs?follow=1&tail=N&timestamps=1&service=a&service=b → NDJSON of LogFrame */
export interface LogFrame {
  service: string;
  replica: number;
  container: string;
  stream: 'stdout' | 'stderr';
  time: number;
  text: string;
}

/** POST /v1/projects/:name/kill: SIGKILL one replica's container; the supervisor replaces it (`cmesh dash` `k`). */
export interface ReplicaRequest {
  service: string;
  replica: number;
}

/** The answer of POST /v1/projects/:name/kill: who replaces the killed container (cmesh's supervisor, or Swarm's orchestrator). */
export interface KillReplicaResult {
  killed: string;
  replacedBy: 'supervisor' | 'swarm';
}

/** POST /v1/projects/:name/drain: take a replica out of (or back into) the balancer without stopping it. */
export interface DrainRequest extends ReplicaRequest {
  drained: boolean;
}

/** POST /v1/projects/:name/{pause,unpause,top,images}: the services to act on (empty = all of the project's). */
export interface ServiceSelection {
  services: string[];
}

/** POST /v1/projects/:name/signal (`cmesh kill`; `kill` is the dash's one-replica route). Like `docker compose kill`. */
export interface KillRequest {
  services: string[];
  /** A name (`SIGHUP`, `HUP`) or a number; the daemon answers the canonical form it sent. */
  signal: string;
}

/** What pause, unpause and kill did: the containers acted on, by name. */
export interface ContainersResult {
  containers: string[];
}

export interface KillResult extends ContainersResult {
  signal: string;
  /** SIGKILL/SIGTERM count as a `stop`: the services are now desired stopped (`cmesh start` or `up` brings them back). */
  stopped: boolean;
}

/** POST /v1/projects/:name/port (`cmesh port svc PRIVATE_PORT`). */
export interface PortRequest {
  service: string;
  privatePort: number;
  protocol: 'tcp' | 'udp';
  /** The replica, when the port is not published through the mesh (1-based, like Compose's --index). */
  index: number;
}

export interface PortResult {
  host: string;
  port: number;
  /** `mesh`: the proxy's published address (all replicas behind it); `replica`: that replica's own engine port. */
  via: 'mesh' | 'replica';
}

/** One replica's processes (`cmesh top`). */
export interface ReplicaProcesses {
  service: string;
  replica: number;
  name: string;
  container: string;
  titles: string[];
  processes: string[][];
}

/** One row of `cmesh images`: the image one container runs. */
export interface ContainerImage {
  container: string;
  service: string;
  repository: string;
  tag: string;
  /** Full image id (sha256:…); the table shows 12 hex digits like Compose. */
  id: string;
  /** Bytes; absent when the engine does not say (the image is gone). */
  size?: number;
}

/** POST /v1/projects/:name/rm (`cmesh rm`): removes stopped containers of the services (all when empty). */
export interface RmRequest {
  services: string[];
  /** Stop the services first (`-s`), like `cmesh stop`: they stay desired stopped. */
  stop: boolean;
  /** Remove their anonymous volumes too. */
  volumes: boolean;
  /** Only say what would go (the CLI's confirmation prompt). */
  dryRun: boolean;
}
