// Control API contract of the image and file-sync operations: `pull`, `build` and watch's `sync`.
// Part of control.ts's contract (re-exported there).

import type { SerializedError } from './errors.ts';
import type { ProjectSpec } from './project.ts';

/** POST /v1/projects/:name/pull → operation stream (pull events), result: PullResult. Like `docker compose pull`. */
export interface PullRequest {
  project: ProjectSpec;
  /** Empty = every service with an image. */
  services: string[];
  /** Report failures in the result instead of failing the operation. */
  ignoreFailures: boolean;
  dockerConfig?: string;
}

export interface PullResult {
  pulled: string[];
  /** service → why (no image, pull_policy never/build, present under `missing`). */
  skipped: Record<string, string>;
  /** Only with ignoreFailures; otherwise the first failure is the operation's error. */
  failed: Record<string, SerializedError>;
}

/** POST /v1/projects/:name/build → operation stream (build events), result: service → BuildResult. */
export interface BuildRequest {
  project: ProjectSpec;
  /** Empty = every service with a build section. */
  services: string[];
  noCache: boolean;
}

export interface BuildResult {
  image: string;
  cached: boolean;
  durationMs: number;
}

/** POST /v1/projects/:name/sync: watch `sync` / `sync+restart` — copy changed host files into every replica. */
export interface SyncRequest {
  service: string;
  files: { path: string; containerPath?: string; kind: 'add' | 'change' | 'unlink' }[];
  /** Restart the replicas one at a time afterwards (drained through the proxy). */
  restart: boolean;
  /** sync+exec: run this in every replica after the files are in (develop.watch `exec`). */
  exec?: SyncExec;
}

/** A develop.watch `exec`, as the exec API takes it. */
export interface SyncExec {
  command: string[];
  user?: string;
  workingDir?: string;
  env?: Record<string, string>;
  privileged?: boolean;
}

export interface SyncResult {
  containers: number;
  copied: string[];
  deleted: string[];
  restarted: number;
  /** Replicas the sync+exec command ran in. */
  executed?: number;
  durationMs: number;
}
