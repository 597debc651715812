// Control API contract of the verbs that reach into a container's processes and files: `run` (and its attach),
// `exec` and `cp`. Part of control.ts's contract (re-exported there).

import type { ProjectSpec } from './project.ts';

/**
 * POST /v1/projects/:name/run (`cmesh run`): starts the service's dependencies (unless noDeps), then creates a one-off
 * container from the service's config (label dev.cmesh.oneoff, no service alias, no published ports but `ports`), and
 * starts it when `detach`. Otherwise the CLI attaches with the upgrade GET /v1/projects/:name/attach, which starts it.
 */
export interface RunRequest {
  project: ProjectSpec;
  service: string;
  /** Replaces the service's command when non-empty. */
  command: string[];
  /** `--entrypoint`, already split into words. */
  entrypoint?: string[];
  /** Added to (and over) the service's environment. */
  env: Record<string, string>;
  /** `-v`: an absolute source is a bind mount, anything else a named volume. */
  volumes: { source: string; target: string; readOnly: boolean }[];
  /** `-p HOST:CTR`, bound on 127.0.0.1 like every cmesh port. */
  ports: { hostPort: number; containerPort: number; protocol: 'tcp' | 'udp' }[];
  name?: string;
  user?: string;
  workingDir?: string;
  tty: boolean;
  /** Keep stdin open for the attach (`-i`, Compose's default). */
  interactive: boolean;
  detach: boolean;
  /** `--rm` with `detach`: the engine removes the one-off when it exits (AutoRemove). Attached, the attach's `rm` does. */
  rm?: boolean;
  noDeps: boolean;
  dockerConfig?: string;
  /** `-l KEY=VAL`: labels added to (and over) the service's; cmesh's own labels always win. */
  labels?: Record<string, string>;
  /** `--cap-add` / `--cap-drop`, added to the service's `cap_add` / `cap_drop`. */
  capAdd?: string[];
  capDrop?: string[];
  /** `--use-aliases`: the one-off gets the service's network aliases (by default it gets none, as in Compose). */
  useAliases?: boolean;
  /** `--build` (always) / `--no-build` (never); absent: build only when the image is missing, like `up`. */
  build?: 'always' | 'never';
}

export interface RunResult {
  container: string;
  name: string;
}

/**
 * Upgrade GET /v1/projects/:name/attach?request=<JSON>: the one-off's stdio as io frames (io-frames.ts); starts it,
 * ends with its exit code. When the client leaves first, the container is stopped; with `rm` it is removed either way.
 */
export interface AttachRequest {
  container: string;
  rm: boolean;
  tty: boolean;
  stdin: boolean;
}

/** Upgrade GET /v1/projects/:name/exec?request=<JSON> (`cmesh exec`): a process in a running replica, as io frames. */
export interface ExecRequest {
  service: string;
  /** The replica, 1-based like Compose's --index. */
  index: number;
  command: string[];
  tty: boolean;
  stdin: boolean;
  detach: boolean;
  user?: string;
  workingDir?: string;
  env: Record<string, string>;
  privileged: boolean;
}

/**
 * GET /v1/projects/:name/archive?request=<JSON> answers a tar of `path` in a replica (application/x-tar);
 * PUT with a tar body extracts it into the directory `path` (`cmesh cp`).
 */
export interface ArchiveRequest {
  service: string;
  index: number;
  path: string;
}
